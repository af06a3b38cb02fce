"""``run_functions_bench()``: the correctly rounded functions, measured -> reports/functions.md.

Per function, input format and output format: the netlist the registry builds (the cheapest
architecture), its neurons, depth and largest fan-in, the neuron counts of each
architecture, how many of the 256 inputs the netlist gets right on the torch engine against
the exact golden (golden/functions.py), and how many torch gets wrong (its float32 function
of the input value, cast to the output dtype), split into wrong at a special input (+-0,
+-inf), wrong only in the sign of a zero, and otherwise wrong. Then the 16-bit formats
(bf16, fp16; the table architecture of gen/wide_function.py): neurons, depth, fan-in,
synapses, the inputs of 65,536 right on the torch engine, and torch's wrong results, its
native 16-bit kernel and its float32 function cast.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = ["run_functions_bench", "function_rows", "wide_function_rows", "REPORT"]

REPORT = Path("reports/functions.md")
PAIRS = [("e4m3", None), ("e4m3", "bf16"), ("e4m3", "fp16"),
         ("e5m2", None), ("e5m2", "bf16"), ("e5m2", "fp16")]


def _torch_wrong(name, fmt, out, exact):
    from .golden.float_ref import decode
    from .golden.formats import get_format
    from .golden.functions import torch_function
    f, o = get_format(fmt), get_format(out or fmt)
    codes = np.arange(256, dtype=np.uint64)
    t = torch_function(name, f, codes, o)
    wrong = np.nonzero(t != exact)[0]
    special = zero_sign = 0
    for c in wrong:
        kind, _, m, _ = decode(f, int(c))
        if kind == "inf" or (kind == "finite" and m == 0):
            special += 1
        elif (int(t[c]) & o.mag_mask) == 0 and (int(exact[c]) & o.mag_mask) == 0:
            zero_sign += 1
    first = ", ".join(f"{int(c):#04x}: {int(t[c]):#x} vs {int(exact[c]):#x}" for c in wrong
                      if decode(f, int(c))[0] == "finite" and decode(f, int(c))[2] != 0
                      and not ((int(t[c]) | int(exact[c])) & o.mag_mask) == 0)
    return len(wrong), special, zero_sign, first


def function_rows():
    from .gen.float_function import METHODS, build_function
    from .golden.functions import FUNCTIONS, golden_function
    from .sim.torch_engine import TorchEngine
    codes = np.arange(256, dtype=np.uint64)
    rows = []
    for name in FUNCTIONS:
        for fmt, out in PAIRS:
            per = {m: build_function(name, fmt, out=out, method=m) for m in METHODS}
            best = build_function(name, fmt, out=out)
            s = best.stats()
            exact = golden_function(name, fmt, codes, out)
            got = np.asarray(TorchEngine(best).run({"a": codes})["y"]).astype(np.uint64)
            wrong, special, zero_sign, first = _torch_wrong(name, fmt, out, exact)
            rows.append({"function": name, "format": fmt, "out": out or fmt,
                         "method": best.meta["method"], "neurons": s["neurons"],
                         "depth": s["depth"], "max_fanin": s["max_fanin"],
                         "max_weight": s["max_weight"],
                         **{f"n_{m}": per[m].stats()["neurons"] for m in METHODS},
                         "correct": int((got == exact).sum()),
                         "torch_wrong": wrong, "torch_special": special,
                         "torch_zero_sign": zero_sign, "torch_first": first})
    return rows


WIDE_FORMATS = ("bf16", "fp16")


def wide_function_rows():
    from .golden.functions import FUNCTIONS, function_table, torch_function
    from .sim.torch_engine import TorchEngine
    from .sim.units import build_unit
    codes = np.arange(1 << 16, dtype=np.uint64)
    rows = []
    for name in FUNCTIONS:
        for fmt in WIDE_FORMATS:
            net = build_unit(name, fmt=fmt)
            s = net.stats()
            exact = function_table(name, fmt)
            got = np.asarray(TorchEngine(net).run({"a": codes})["y"]).astype(np.uint64)
            native = torch_function(name, fmt, codes, native=True)
            via32 = torch_function(name, fmt, codes)
            rows.append({"function": name, "format": fmt, "neurons": s["neurons"],
                         "depth": s["depth"], "max_fanin": s["max_fanin"],
                         "synapses": s["synapses"], "correct": int((got == exact).sum()),
                         "torch_native_wrong": int((native != exact).sum()),
                         "torch_f32_wrong": int((via32 != exact).sum())})
    return rows


def _wide_markdown(rows):
    lines = [
        "", "# Correctly rounded functions of bf16 and fp16", "",
        "`spikegate generate NAME --format bf16|fp16`: two neuron levels, thermometer "
        "neurons `[code >= t]` (and on the magnitude, and on the low mantissa bits) shared by "
        "one wide neuron per output bit (`gen/wide_function.py`). *correct*: inputs of 65,536 "
        "the netlist gets right on the torch engine against the exact golden. *torch native*: "
        "torch's function on a tensor of the format itself; *torch via float32*: on the "
        "float32 value, cast back; both counted against the exact golden (NaNs compared as "
        "one NaN).",
        "",
        "| function | format | neurons | depth | max fan-in | synapses | correct | "
        "torch native wrong | torch via float32 wrong |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['function']} | {r['format']} | {r['neurons']:,} | {r['depth']} | "
            f"{r['max_fanin']:,} | {r['synapses']:,} | {r['correct']:,}/65,536 | "
            f"{r['torch_native_wrong']} | {r['torch_f32_wrong']} |")
    return lines


def _markdown(rows, wide, seconds):
    lines = [
        "# Correctly rounded functions of the 8-bit formats",
        "",
        "`spikegate bench` helper `spikegate.bench_functions.run_functions_bench()` writes this "
        "file. Units: `spikegate generate NAME --format e4m3|e5m2 [--to FORMAT]` "
        "(torch policy here). Golden: the exact reference `golden/functions.py` (mpmath at "
        "160 bits with an honest error bound and Ziv's loop; exact integer arithmetic for "
        "recip/rsqrt; one special-values table). *correct*: inputs of 256 the netlist gets "
        "right on the torch engine. *torch wrong*: torch's float32 function of the input "
        "value, cast to the output dtype (256-element tensor), against the exact golden; "
        "*at +-0/+-inf*: of those, wrong at a special input (torch: `gelu(-0) = +0`, "
        "`silu(-inf) = NaN`); *zero sign*: of the rest, a zero of the wrong sign (float32 "
        "GELU's `1 + erf` cancels to 0 and gives `+0` for `x <~ -5.9`); *other*: a different "
        "rounded value.",
        "",
        "Architectures (neurons each): *thermometer* (per output bit one neuron over "
        "thermometer neurons `[code >= t]` / `[mag >= t]`, minterms and input bits; two "
        "levels), *minterm* (a decoder; two levels), *linbits* (`Lin.bits` of a step-function "
        "sum; three levels). The registry keeps the one with fewest neurons.",
        "",
        "| function | format | out | neurons | depth | max fan-in | max weight | chosen | "
        "thermometer / minterm / linbits | correct | torch wrong | at +-0/+-inf | zero sign "
        "| other |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        other = r["torch_wrong"] - r["torch_special"] - r["torch_zero_sign"]
        lines.append(
            f"| {r['function']} | {r['format']} | {r['out']} | {r['neurons']} | {r['depth']} | "
            f"{r['max_fanin']} | {r['max_weight']} | {r['method']} | {r['n_thermometer']} / "
            f"{r['n_minterm']} / {r['n_linbits']} | {r['correct']}/256 | {r['torch_wrong']} | "
            f"{r['torch_special']} | {r['torch_zero_sign']} | {other} |")
    others = [r for r in rows if r["torch_first"]]
    if others:
        lines += ["", "torch's other wrong results (input: torch vs exact):", ""]
        for r in others:
            lines.append(f"- {r['function']} {r['format']} -> {r['out']}: {r['torch_first']}")
    lines += _wide_markdown(wide)
    lines += ["", f"({len(rows) + len(wide)} rows in {seconds:.0f} s.)", ""]
    return "\n".join(lines)


def run_functions_bench(path=REPORT) -> int:
    from .hdl.atomic import write_file
    start = time.perf_counter()
    rows, wide = function_rows(), wide_function_rows()
    text = _markdown(rows, wide, time.perf_counter() - start)
    write_file(path, text)
    print(text)
    print(f"wrote {path}")
    return 0 if (all(r["correct"] == 256 for r in rows)
                 and all(r["correct"] == 1 << 16 for r in wide)) else 1


if __name__ == "__main__":
    raise SystemExit(run_functions_bench())


# -- FP32 ---------------------------------------------------------------------------------

REPORT32 = Path("reports/functions32.md")
#: NEXUS's FP32 functions measured on its own code (32,768 inputs ~ N(0, 16), one run):
#: neuron evaluations per input, correctly rounded %, max error in ULP (issue 12; None: not
#: measured -- its tanh runs through FP64, its GELU is another function, off by up to 10^9 ULP)
NEXUS32 = {"exp": (256_463, 63.7, 2), "sigmoid": (288_185, 58.5, 3), "silu": (309_601, 58.0, 3),
           "tanh": (1_479_560, None, None), "gelu": (1_555_625, None, 10 ** 9)}
VECTORS32 = 1_000_000


def _sweep_totals(path):
    import json
    if not path.exists():
        return None
    runs = json.loads(path.read_text())
    keys = ("vectors", "mismatches", "correct", "faithful", "hard", "seconds")
    total = {k: sum(r.get(k, 0) for r in runs["ranges"]) for k in keys}
    spans = sorted((r["start"], r["stop"]) for r in runs["ranges"] if r["mismatches"] == 0)
    merged = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    devices = sorted({r["device"] for r in runs["ranges"]})
    total.update(proved=runs["proved_vectors"], device=", ".join(devices),
                 ranges=", ".join(f"{lo:#010x}..{hi:#010x}" for lo, hi in merged))
    return total


def fp32_function_rows(vectors=VECTORS32):
    """Per FP32 function: the netlist's figures, its results and torch's (CPU float32) on
    ``vectors`` seeded random and directed inputs against the exact value, and the
    recorded all-inputs sweep."""
    import torch
    from .gen.float32_function import FLOAT32_FUNCTIONS, build_float32_function
    from .golden.functions import (faithful_alternative, function_vectors, golden_function,
                                   torch_function)
    from .sim.fast_engine import FastEngine
    from .sim.function_sweep import device_bracket
    rows = []
    for name in FLOAT32_FUNCTIONS:
        netlist = build_float32_function(name)
        s = netlist.stats()
        codes = function_vectors(name, "fp32", vectors, seed=0)
        got = FastEngine(netlist, device="cpu", c_ops=1 << 30).run({"a": codes})["y"]
        cr, alt, hard = (t.numpy().astype(np.uint64) for t in
                         device_bracket(name, torch.from_numpy(codes.astype(np.int64))))
        hard = hard.astype(bool)
        cr[hard] = golden_function(name, "fp32", codes[hard])
        alt[hard] = faithful_alternative(name, "fp32", codes[hard], cr[hard])
        t = torch_function(name, "fp32", codes).astype(np.uint64)
        rows.append({"function": name, "neurons": s["neurons"], "depth": s["depth"],
                     "max_fanin": s["max_fanin"], "synapses": s["synapses"],
                     "blocks": s["neurons_per_block"], "vectors": len(codes),
                     "correct": int((got == cr).sum()),
                     "faithful": int(((got != cr) & (got == alt)).sum()),
                     "wrong": int(((got != cr) & (got != alt)).sum()),
                     "torch_correct": int((t == cr).sum()),
                     "torch_unfaithful": int(((t != cr) & (t != alt)).sum()),
                     "sweep": _sweep_totals(Path(f"reports/{name}32_sweep.json"))})
    return rows


def _markdown32(rows):
    lines = ["# FP32 functions", "",
             "`spikegate bench functions32` writes this file. Units: `spikegate generate NAME "
             "--format fp32` (gen/float32_function.py, gen/float32_rsqrt.py: range reduction, "
             "a step-function table, a fixed-point polynomial in truncated heaps, the one "
             "rounding block). exp, sigmoid, SiLU, tanh and GELU are *faithful* (one of the "
             "two floats around the exact value) for every input and correctly rounded for "
             "nearly all; rsqrt is correctly rounded for every input (its 50 hard cases, "
             "`RSQRT32_HARD`, are neurons that force the rounding side). The exact golden is "
             "golden/functions.py (mpmath, Ziv's loop; exact integers for rsqrt).", "",
             "| function | neurons | depth | max fan-in | synapses | NEXUS neuron evaluations "
             "| ratio | NEXUS correctly rounded | NEXUS max error |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        nx = NEXUS32.get(r["function"])
        lines.append(f"| {r['function']} | {r['neurons']:,} | {r['depth']} | "
                     f"{r['max_fanin']} | {r['synapses']:,} | "
                     + (f"{nx[0]:,} | 1/{nx[0] / r['neurons']:.0f} | "
                        f"{'not measured' if nx[1] is None else f'{nx[1]}%'} | "
                        f"{'not measured' if nx[2] is None else f'{nx[2]:,} ULP'} |"
                        if nx else "| | | |"))
    lines += ["", "Seeded random and directed inputs (`function_vectors`: specials, range "
              "thresholds and neighbours, an eighth nearest a rounding boundary, uniform "
              "values over the range, uniform bit patterns), CPU engine; torch: its float32 "
              "CPU function on the same inputs, against the same exact values:", "",
              "| function | inputs | correctly rounded | faithful only | wrong | torch correctly "
              "rounded | torch unfaithful |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['function']} | {r['vectors']:,} | {r['correct']:,} | "
                     f"{r['faithful']:,} | {r['wrong']} | {r['torch_correct']:,} | "
                     f"{r['torch_unfaithful']:,} |")
    lines += ["", "Every input (`spikegate verify DIR --exhaustive`, recorded by range in "
              "reports/<function>32_sweep.json, copied from the design folder):", "",
              "| function | inputs proved | of | correctly rounded | faithful only | wrong | "
              "decided by mpmath | device | seconds |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        w = r["sweep"]
        if w is None:
            lines.append(f"| {r['function']} | not swept | 2^32 | | | | | | |")
            continue
        lines.append(f"| {r['function']} | {w['proved']:,} ({w['ranges']}) | 4,294,967,296 | "
                     f"{w['correct']:,} ({100 * w['correct'] / w['vectors']:.4f}%) | "
                     f"{w['faithful']:,} | {w['mismatches']} | {w['hard']:,} | {w['device']} | "
                     f"{w['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def run_fp32_functions_bench(path=REPORT32) -> int:
    from .hdl.atomic import write_file
    rows = fp32_function_rows()
    text = _markdown32(rows)
    write_file(path, text)
    print(text)
    print(f"wrote {path}")
    return 0 if all(r["wrong"] == 0 for r in rows) else 1
