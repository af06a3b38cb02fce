"""``spikegate robustness``: bit-exactness of the FP8 units under physical non-idealities.

One point (``--sigma/--delta/--beta/--mode``) prints one JSON object. Without them the
command runs the sweeps (synaptic noise, threshold variation, leak, in gate and temporal
mode, for the generated, centred and hardened netlists), writes
``<out>/robustness_<unit>_<format>.json`` and PNG plots, and regenerates
``<out>/robustness.md`` from every sweep JSON present in ``<out>``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

__all__ = ["VARIANTS", "variant_netlist", "run_point", "run_sweep", "write_report",
           "SWEEP", "QUICK_SWEEP"]

ROBUST_UNITS = ("fp8-mul", "fp8-add")

#: netlist variants: name -> (harden keyword arguments or None, description)
VARIANTS = {
    "generated": (None, "as generated: integer thresholds, fires with zero margin when the "
                        "sum equals the threshold"),
    "centred": ({"gain": 1}, "thresholds centred between integer sums (the sources' "
                             "IF_1.5 convention), same synaptic efficacy"),
    "hardened": ({}, "`harden()`: centred, per-neuron weight gain for sigma = 0.2 at "
                     "z = 4.5 (no extra neurons)"),
    "hardened-r3": ({"replicas": 3}, "`harden(replicas=3)`: folded triple redundancy with "
                                     "output voters, per-neuron gain for sigma = 0.2"),
}

SIGMAS = [0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
BETAS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0]
REL_SIGMAS = [0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3]

#: the full sweep: (name, x parameter, values, fixed physics, variants)
SWEEP = {
    "repeats": 2,
    "curves": [
        ("sigma-gate", "sigma", SIGMAS, {"mode": "gate"}, ("generated", "centred", "hardened",
                                                           "hardened-r3")),
        ("delta-gate", "delta", SIGMAS, {"mode": "gate"}, ("generated", "centred", "hardened")),
        ("beta-soft", "beta", BETAS, {"mode": "temporal", "reset": "soft"},
         ("generated", "centred", "hardened")),
        ("beta-hard", "beta", BETAS, {"mode": "temporal", "reset": "hard"},
         ("generated", "centred", "hardened")),
        ("sigma-temporal", "sigma", SIGMAS, {"mode": "temporal", "beta": 0.01, "reset": "hard"},
         ("generated", "centred", "hardened")),
        ("delta-temporal", "delta", SIGMAS, {"mode": "temporal", "beta": 0.01, "reset": "hard"},
         ("generated", "centred", "hardened")),
        ("sigma-relative", "sigma", REL_SIGMAS, {"mode": "gate", "noise": "relative"},
         ("centred", "hardened", "hardened-r3")),
    ],
    "faults": ("generated", "hardened", "hardened-r3"),
}

#: a small sweep for tests and quick looks
QUICK_SWEEP = {
    "repeats": 1,
    "curves": [
        ("sigma-gate", "sigma", [0.0, 0.2], {"mode": "gate"}, ("generated", "hardened")),
        ("beta-soft", "beta", [0.01, 1.0], {"mode": "temporal", "reset": "soft"},
         ("generated",)),
    ],
    "faults": (),
}


def variant_netlist(unit, fmt, variant, policy="torch"):
    from .gen.harden import harden
    from .sim.units import build_unit
    if unit not in ROBUST_UNITS:
        raise ValueError(f"unknown unit {unit!r}: choose one of {', '.join(ROBUST_UNITS)}")
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}: choose one of {', '.join(VARIANTS)}")
    base = build_unit(unit, fmt=fmt, policy=policy)
    kwargs = VARIANTS[variant][0]
    return base if kwargs is None else harden(base, **kwargs)


def run_point(unit, fmt, *, physics, variant="generated", netlist=None, repeats=2, seed=0,
              device=None, instances=None, activity=True):
    """One measurement as a JSON-ready dict (what ``--json`` prints)."""
    from .sim.robustness import measure
    netlist = netlist or variant_netlist(unit, fmt, variant)
    out = measure(netlist, physics, repeats=repeats, seed=seed, device=device,
                  instances=instances, activity=activity)
    out["variant"] = variant
    if "hardening" in netlist.meta:
        out["hardening"] = netlist.meta["hardening"]
    return out


def _cost_row(netlist, act):
    st = netlist.stats()
    h = netlist.meta.get("hardening", {})
    return {"neurons": st["neurons"], "synapses": st["synapses"], "depth": st["depth"],
            "max_weight": st["max_weight"], "weight_unit": netlist.meta.get("weight_unit", 1),
            "max_gain": h.get("max_gain", 1), "mean_gain": h.get("mean_gain", 1),
            **act}


def _fault_scan(netlist, engine, inputs, expected):
    """Every single stuck-at-0/1 fault: fraction of pairs still bit-exact."""
    import numpy as np
    fracs = []
    for n in netlist.neurons:
        for v in (0, 1):
            out = engine.run(inputs, faults={n.name: v})
            ok = np.ones(len(out["y"]), dtype=bool)
            for bus, exp in expected.items():
                ok &= out[bus] == np.asarray(exp, dtype=np.uint64)
            fracs.append(float(ok.mean()))
    fr = np.array(fracs)
    return {"faults": len(fr), "mean_bit_exact": float(fr.mean()),
            "min_bit_exact": float(fr.min()), "masked_fraction": float((fr == 1.0).mean())}


def run_sweep(unit, fmt, *, spec=None, seed=0, device=None, progress=None):
    """All curves of ``spec`` for one unit and format, as one JSON-ready dict."""
    from .sim.physics import Physics
    from .sim.robustness import activity_report, exhaustive_with_golden, measure
    from .sim.torch_engine import TorchEngine
    spec = spec or SWEEP
    start = time.perf_counter()
    used = sorted({v for c in spec["curves"] for v in c[4]} | set(spec["faults"]),
                  key=list(VARIANTS).index)
    nets = {v: variant_netlist(unit, fmt, v) for v in used}
    engines = {v: TorchEngine(nl, device=device) for v, nl in nets.items()}
    result = {"unit": unit, "format": fmt, "policy": "torch", "seed": seed,
              "repeats": spec["repeats"], "variants": {}, "curves": []}
    for v, nl in nets.items():
        act = activity_report(nl, engine=engines[v])
        result["variants"][v] = {"description": VARIANTS[v][1], "netlist": nl.name,
                                 **_cost_row(nl, {k: act[k] for k in (
                                     "spikes_per_op", "input_spikes_per_op",
                                     "synaptic_events_per_op", "synaptic_charge_per_op",
                                     "neuron_evals_per_op", "never_firing_neurons",
                                     "always_firing_neurons")}),
                                 "energy_pj_per_op": act["energy_estimate"]["pj_per_op"]}
    result["energy_model"] = act["energy_estimate"]["model"]
    for name, param, values, fixed, variants in spec["curves"]:
        for v in variants:
            points = []
            for x in values:
                phys = Physics(**{**fixed, param: x})
                m = measure(nets[v], phys, repeats=spec["repeats"], seed=seed,
                            engine=engines[v])
                points.append({"x": x, "fraction": m["bit_exact_fraction"], "ci95": m["ci95"],
                               "evaluations": m["evaluations"], "errors": m["errors"],
                               "chips": m["chips"], "chips_with_errors": m["chips_with_errors"]})
                if progress:
                    progress(f"{unit} {fmt} {name} {v} {param}={x}: "
                             f"{m['bit_exact_fraction']:.5f}")
            result["curves"].append({"curve": name, "param": param, "fixed": fixed,
                                     "variant": v, "points": points})
    if spec["faults"]:
        result["faults"] = {}
        for v in spec["faults"]:
            inputs, expected = exhaustive_with_golden(nets[v])
            result["faults"][v] = _fault_scan(nets[v], engines[v], inputs, expected)
            if progress:
                progress(f"{unit} {fmt} faults {v}: {result['faults'][v]}")
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


# -- plots and the markdown report -------------------------------------------------------

CURVE_TITLES = {
    "sigma-gate": "synaptic noise (absolute), gate mode",
    "delta-gate": "threshold variation, gate mode",
    "beta-soft": "leak beta, temporal mode, soft reset",
    "beta-hard": "leak beta, temporal mode, hard reset",
    "sigma-temporal": "synaptic noise, temporal mode (beta 0.01, hard reset)",
    "delta-temporal": "threshold variation, temporal mode (beta 0.01, hard reset)",
    "sigma-relative": "synaptic noise relative to |w|, gate mode",
}
COLORS = {"generated": "tab:red", "centred": "tab:orange", "hardened": "tab:green",
          "hardened-r3": "tab:blue"}
STYLES = {"generated": "-", "centred": "--", "hardened": ":", "hardened-r3": "-."}


def plot_sweeps(sweeps, out_dir: Path, fmt):
    """One PNG per curve kind, a panel per unit. Returns the written paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    written = []
    kinds = []
    for s in sweeps:
        for c in s["curves"]:
            if c["curve"] not in kinds:
                kinds.append(c["curve"])
    for kind in kinds:
        fig, axes = plt.subplots(1, len(sweeps), figsize=(5.2 * len(sweeps), 3.8),
                                 squeeze=False)
        for ax, s in zip(axes[0], sweeps):
            for c in s["curves"]:
                if c["curve"] != kind:
                    continue
                xs = [p["x"] for p in c["points"]]
                ys = [p["fraction"] for p in c["points"]]
                lo = [max(0.0, p["fraction"] - p["ci95"][0]) for p in c["points"]]
                hi = [max(0.0, p["ci95"][1] - p["fraction"]) for p in c["points"]]
                ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", ms=3, capsize=2,
                            color=COLORS.get(c["variant"]), ls=STYLES.get(c["variant"], "-"),
                            label=c["variant"])
                if kind.startswith("beta"):
                    ax.set_xscale("log")
            if kind.startswith("beta"):
                ax.axhline(1.0, color="grey", ls=":", lw=1,
                           label="gate mode (membrane cleared): 1.0 by construction")
            if kind == "sigma-relative":
                ax.set_xscale("symlog", linthresh=1e-3)
            ax.set_title(f"{s['unit']} {s['format']}", fontsize=10)
            ax.set_xlabel(next(c["param"] for c in s["curves"] if c["curve"] == kind))
            ax.set_ylabel("fraction of 65,536 results bit-exact")
            ax.set_ylim(-0.02, 1.02)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="lower left")
        fig.suptitle(CURVE_TITLES.get(kind, kind) + " (95% CI)", fontsize=11)
        fig.tight_layout()
        path = out_dir / f"robustness_{kind}_{fmt}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def _pt(sweep, curve, variant, x):
    for c in sweep["curves"]:
        if c["curve"] == curve and c["variant"] == variant:
            for p in c["points"]:
                if abs(p["x"] - x) < 1e-12:
                    return p
    return None


def _fmt(p):
    if p is None:
        return "n/a"
    f, (lo, hi) = p["fraction"], p["ci95"]
    if lo == hi == f:
        return f"{100 * f:.3f} %"
    if p.get("errors") == 0:
        chips = f", 0 of {p['chips']} chips" if p.get("chips") else ""
        return f"100 % (0 of {p['evaluations']:,} wrong{chips}; >= {100 * lo:.3f} %)"
    return f"{100 * f:.3f} % [{100 * lo:.3f}, {100 * hi:.3f}]"


def _curve_table(sweep, curve):
    cs = [c for c in sweep["curves"] if c["curve"] == curve]
    if not cs:
        return []
    xs = [p["x"] for p in cs[0]["points"]]
    lines = [f"| {cs[0]['param']} | " + " | ".join(c["variant"] for c in cs) + " |",
             "|---|" + "---|" * len(cs)]
    for i, x in enumerate(xs):
        lines.append(f"| {x:g} | " + " | ".join(_fmt(c["points"][i]) for c in cs) + " |")
    return lines


def write_report(out_dir: Path):
    """Regenerate ``robustness.md`` (and the plots) from every sweep JSON in ``out_dir``."""
    out_dir = Path(out_dir)
    sweeps = [json.loads(p.read_text()) for p in sorted(out_dir.glob("robustness_*_*.json"))]
    order = {"fp8-mul": 0, "fp8-add": 1}
    sweeps.sort(key=lambda s: (s["format"], order.get(s["unit"], 9)))
    pngs = []
    for fmt in sorted({s["format"] for s in sweeps}):
        pngs += plot_sweeps([s for s in sweeps if s["format"] == fmt], out_dir, fmt)
    L = ["# Robustness of the FP8 units under physical non-idealities", "",
         "Produced by `spikegate robustness all --format e4m3` (and `--format e5m2`); do not "
         "edit by hand. Every figure is the fraction of **all 65,536 input pairs** whose FP8 "
         "result is bit-exact against the PyTorch golden, with a 95 % confidence interval "
         "where sampling is involved (see `spikegate/sim/robustness.py`).", "",
         "## What is simulated, and how it differs from the sources", "",
         "- Noise and variation act **inside every neuron**: synaptic noise `sigma` on each "
         "active synapse of every neuron at every evaluation, a per-neuron threshold offset "
         "`delta` drawn once per simulated chip (256 chips per repeat). The sources inject "
         "noise only on the primary inputs and report per-gate accuracy; here one flipped "
         "neuron anywhere makes the whole result count as wrong.",
         "- Units: `sigma` and `delta` are in units of one synaptic efficacy (a weight-1 "
         "synapse, i.e. the gap between two integer sums), **absolute** per synapse: the "
         "scale of the sources' spikes (amplitude 1, thresholds 0.5/1.5). A relative model "
         "(noise proportional to |w|) is swept separately.",
         "- **Gate mode** clears every membrane before each operation, exactly as the sources "
         "do: leak then acts on an empty membrane, so every beta gives 100 % *by "
         "construction*. **Temporal mode** lets each membrane carry over from one operation "
         "to the next (LIF `v <- beta v + input`, soft or hard reset, resting floor 0); each "
         "chip is a stream of 256 consecutive operations in random order.",
         "- Variants: " + "; ".join(f"**{k}**: {d}" for k, (_, d) in VARIANTS.items()) + ".",
         ""]
    if sweeps:
        L += ["## Summary", "",
              "| unit | sigma = 0.2: generated / centred / **hardened** | delta = 0.1: "
              "generated / centred / hardened | temporal, soft reset, beta = 0.01 / 0.1 / 1 "
              "(generated) | hardening cost |", "|---|---|---|---|---|"]
        for s in sweeps:
            def f(curve, v, x):
                p = _pt(s, curve, v, x)
                return "n/a" if p is None else f"{100 * p['fraction']:.2f} %"
            var = s["variants"]
            cost = ""
            if "hardened" in var and "generated" in var:
                g, h = var["generated"], var["hardened"]
                cost = (f"+0 neurons, weights up to {h['max_gain']}x (mean "
                        f"{h['mean_gain']:.1f}x), synaptic charge "
                        f"{h['synaptic_charge_per_op'] / g['synaptic_charge_per_op']:.1f}x")
            L.append(f"| {s['unit']} {s['format']} | "
                     + " / ".join(f("sigma-gate", v, 0.2) for v in ("generated", "centred"))
                     + f" / **{f('sigma-gate', 'hardened', 0.2)}** | "
                     + " / ".join(f("delta-gate", v, 0.1)
                                  for v in ("generated", "centred", "hardened")) + " | "
                     + " / ".join(f(c, "generated", x) for c, x in (
                         ("beta-soft", 0.01), ("beta-soft", 0.1), ("beta-soft", 1.0)))
                     + f" | {cost} |")
        L += [""]
    for s in sweeps:
        L += [f"## {s['unit']} {s['format']}", "",
              "| variant | neurons | synapses | depth | max weight | max / mean gain | "
              "spikes / op | synaptic events / op | synaptic charge / op (units) | "
              "energy / op (ESTIMATE) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
        for v, d in s["variants"].items():
            L.append(f"| {v} | {d['neurons']} | {d['synapses']} | {d['depth']} | "
                     f"{d['max_weight']} (unit {d['weight_unit']}) | {d['max_gain']} / "
                     f"{d['mean_gain']:.2f} | {d['spikes_per_op']:.1f} | "
                     f"{d['synaptic_events_per_op']:.1f} | {d['synaptic_charge_per_op']:.0f} | "
                     f"{d['energy_pj_per_op'] / 1000:.1f} nJ |")
        L += [""]
        claims = [
            ("synaptic noise sigma <= 0.2: >98 % *gate* accuracy (noise on primary inputs)",
             "sigma-gate", 0.2, "sigma = 0.2 in every neuron, gate mode"),
            ("threshold variation delta <= 0.10: >96 % accuracy", "delta-gate", 0.1,
             "delta = 0.1 per neuron and chip, gate mode"),
            ("LIF leakage beta 0.1 .. 1.0: 100 %, 'inherent immunity'", "beta-soft", 0.1,
             "beta = 0.1, membranes carried over, soft reset"),
            ("", "beta-soft", 1.0, "beta = 1.0 (no leak), soft reset"),
            ("robust to extreme leakage beta ~ 0.01", "beta-soft", 0.01,
             "beta = 0.01, soft reset"),
            ("", "beta-hard", 0.01, "beta = 0.01, hard reset"),
        ]
        variants = [v for v in ("generated", "centred", "hardened") if v in s["variants"]]
        L += ["| sources' claim | our setting | " + " | ".join(variants) + " |",
              "|---|---|" + "---|" * len(variants)]
        for claim, curve, x, setting in claims:
            L.append(f"| {claim} | {setting} | "
                     + " | ".join(_fmt(_pt(s, curve, v, x)) for v in variants) + " |")
        L += [""]
        for c in dict.fromkeys(c["curve"] for c in s["curves"]):
            L += [f"### {CURVE_TITLES.get(c, c)}", ""] + _curve_table(s, c) + [""]
            L += [f"![{c}](robustness_{c}_{s['format']}.png)", ""]
        if s.get("faults"):
            L += ["### Single stuck-at faults (every neuron stuck at 0, then at 1)", "",
                  "| variant | faults | mean bit-exact | worst | faults fully masked |",
                  "|---|---|---|---|---|"]
            for v, f in s["faults"].items():
                L.append(f"| {v} | {f['faults']} | {100 * f['mean_bit_exact']:.2f} % | "
                         f"{100 * f['min_bit_exact']:.2f} % | "
                         f"{100 * f['masked_fraction']:.1f} % |")
            L += [""]
    if sweeps:
        m = sweeps[0]["energy_model"]
        L += ["## Energy model (an estimate, not a measurement)", "",
              f"energy / op = {m['pj_per_synaptic_event']} pJ x synaptic events + "
              f"{m['pj_per_neuron_update']} pJ x neuron updates + {m['pj_per_spike']} pJ x "
              f"spikes (neurons and inputs). Source: {m['source']}. Synaptic charge (sum of "
              "|w| over events, in efficacy units) is listed separately because on an analog "
              "substrate energy would scale with it, and weight gains multiply it.", ""]
    path = out_dir / "robustness.md"
    path.write_text("\n".join(L))
    return path, pngs


# -- command line -------------------------------------------------------------------------

def add_parser(sub):
    """The ``robustness`` subcommand (registered by :mod:`spikegate.cli`)."""
    p = sub.add_parser(
        "robustness", help="bit-exactness of the FP8 units under noise, variation, leak",
        description=__doc__.split("\n\n")[0])
    p.add_argument("unit", choices=ROBUST_UNITS + ("all",),
                   help="fp8-mul, fp8-add, or all (sweep both)")
    p.add_argument("--format", default="e4m3", choices=("e4m3", "e5m2"))
    p.add_argument("--sigma", type=float, help="synaptic noise per active synapse (units of "
                   "one synaptic efficacy)")
    p.add_argument("--delta", type=float, help="threshold variation (per neuron and chip)")
    p.add_argument("--beta", type=float, help="LIF leak in temporal mode, 0 < beta <= 1")
    p.add_argument("--mode", choices=("gate", "temporal"),
                   help="gate: membranes cleared per operation; temporal: carried over")
    p.add_argument("--reset", default="soft", choices=("soft", "hard"))
    p.add_argument("--noise", default="absolute", choices=("absolute", "relative"))
    p.add_argument("--harden", action="store_true",
                   help="measure the hardened netlist (centred thresholds, per-neuron gain)")
    p.add_argument("--replicas", type=int, default=1,
                   help="with --harden: folded redundant copies (odd)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=2,
                   help="passes over all pairs when sampling is involved")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("-o", "--output", default="reports",
                   help="sweep: directory for the JSON, the plots and robustness.md")
    p.add_argument("--quick", action="store_true", help="sweep: a small grid (smoke test)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_robustness)
    return p


def cmd_robustness(args):
    import sys
    from .sim.physics import Physics
    from .sim.torch_engine import resolve_device
    device = resolve_device(args.device)
    single = any(getattr(args, k) is not None for k in ("sigma", "delta", "beta", "mode"))
    if args.replicas != 1 and not args.harden:
        raise ValueError("--replicas needs --harden: redundancy is part of the hardening")
    if single:
        if args.unit == "all":
            raise ValueError("a single point needs one unit: fp8-mul or fp8-add, not all")
        physics = Physics(mode=args.mode or "gate", sigma=args.sigma or 0.0,
                          delta=args.delta or 0.0, beta=args.beta, reset=args.reset,
                          noise=args.noise)
        variant = "generated"
        netlist = None
        if args.harden:
            variant = "hardened" if args.replicas == 1 else f"hardened-r{args.replicas}"
            from .gen.harden import harden
            from .sim.units import build_unit
            netlist = harden(build_unit(args.unit, fmt=args.format), replicas=args.replicas)
        out = run_point(args.unit, args.format, physics=physics, variant=variant,
                        netlist=netlist, repeats=args.repeats, seed=args.seed, device=device)
        if args.json:
            print(json.dumps(out, sort_keys=True))
        else:
            lo, hi = out["ci95"]
            print(f"{out['netlist']} {variant}: {100 * out['bit_exact_fraction']:.3f} % of "
                  f"{out['pairs']} pairs bit-exact ({out['evaluations']} evaluations, 95 % CI "
                  f"[{100 * lo:.3f}, {100 * hi:.3f}]), {out['neurons']} neurons")
        return 0
    if args.harden or args.noise != "absolute" or args.reset != "soft":
        raise ValueError("--harden, --noise and --reset select a single point: give --sigma, "
                         "--delta, --beta or --mode too (the sweep covers every variant)")
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    units = ROBUST_UNITS if args.unit == "all" else (args.unit,)
    spec = QUICK_SWEEP if args.quick else dict(SWEEP, repeats=args.repeats)
    log = None if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
    files = []
    for unit in units:
        result = run_sweep(unit, args.format, spec=spec, seed=args.seed, device=device,
                           progress=log)
        path = out_dir / f"robustness_{unit}_{args.format}.json"
        path.write_text(json.dumps(result, indent=1) + "\n")
        files.append(str(path))
    report, pngs = write_report(out_dir)
    summary = {"report": str(report), "json": files, "plots": [str(p) for p in pngs]}
    print(json.dumps(summary) if args.json else
          f"wrote {report}, {len(files)} sweep JSON file(s) and {len(pngs)} plot(s)")
    return 0
