"""``spikegate synth`` and ``spikegate inspect``, and the progress display ``verify`` uses."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

__all__ = ["add_parsers", "cmd_synth", "cmd_inspect", "Progress", "newest_waves"]


class Progress:
    """Progress lines on stderr: ``step(msg)`` starts a step, ``done(msg)`` ends it.

    On a terminal a running step shows a spinner and its elapsed seconds; elsewhere (CI
    logs, pipes) each step is one line when it starts and one when it ends. Disabled
    (``enabled=False``) it prints nothing: ``--quiet`` and ``--json``.
    """

    _FRAMES = "|/-\\"

    def __init__(self, enabled=True, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self._msg = None
        self._t0 = 0.0
        self._stop = None
        self._thread = None

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()

    def _spin(self):
        i = 0
        while not self._stop.wait(0.2):
            i += 1
            self._write(f"\r{self._FRAMES[i % 4]} {self._msg} "
                        f"{time.perf_counter() - self._t0:5.1f} s")

    def step(self, msg):
        if not self.enabled:
            return
        self.done()
        self._msg, self._t0 = msg, time.perf_counter()
        if self.tty:
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        else:
            self._write(f"... {msg}\n")

    def done(self, result="done"):
        if not self.enabled or self._msg is None:
            return
        seconds = time.perf_counter() - self._t0
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            self._write("\r\033[K")
        self._write(f"    {self._msg}: {result} ({seconds:.1f} s)\n")
        self._msg = None

    def log(self, msg):
        if self.enabled:
            if self._thread is not None:
                self._write("\r\033[K")
            self._write(f"    {msg}\n")


def newest_waves(top, simulator, *, since=0.0, build_root=Path("build/sim")):
    """The FST file the last traced run of *top* on *simulator* wrote (None if none).

    The cocotb runner keeps traced builds under ``build/sim/<top>-<hash>/<sim>-waves/``.
    """
    best, best_t = None, since - 1.0
    wall_since = time.time() - (time.perf_counter() - since) if since else 0.0
    for path in Path(build_root).glob(f"{top}-*/{simulator}-waves/*.fst"):
        t = path.stat().st_mtime
        if t >= wall_since - 1.0 and (best is None or t > best_t):
            best, best_t = path, t
    return best.resolve() if best else None


# --------------------------------------------------------------------------- synth

def _synth_table(top, results):
    lines = [f"{top}: registers on every input and output; baseline = behavioural RTL, "
             f"same flow",
             f"  {'target':<8} {'design':<9} {'LUTs':>6} {'carry':>6} {'FFs':>5} "
             f"{'depth':>6} {'Fmax MHz':>9}  {'variant':<8} {'fastest variant':>16}"]

    def mhz(v):
        return f"{v:.1f}" if v else "n/a"

    for target, s in results.items():
        rows = [("neuron", s)] + ([("baseline", s["baseline"])] if s.get("baseline") else [])
        for name, r in rows:
            variants = r.get("variants") or {}
            fast = max(variants, key=lambda k: variants[k].get("fmax_mhz") or 0) \
                if variants else r.get("variant")
            lines.append(f"  {target:<8} {name:<9} {r['luts']:>6} {r['carry_cells']:>6} "
                         f"{r['ffs']:>5} {r['logic_depth']:>6} {mhz(r.get('fmax_mhz')):>9}  "
                         f"{r.get('variant'):<8} "
                         f"{mhz(r.get('fmax_best_mhz')) + ' MHz ' + str(fast):>16}")
        if s.get("ratio"):
            ratio = s["ratio"]
            fmax = f"{ratio['fmax']:.2f}" if ratio.get("fmax") else "n/a"
            lines.append(f"  {target:<8} {'ratio':<9} {ratio['luts']:>6.2f} {'':>6} {'':>5} "
                         f"{'':>6} {'':>9}  {'':<8} {fmax:>16}  (neuron / baseline: "
                         f"fewest LUTs, fastest)")
    return "\n".join(lines)


def cmd_synth(args):
    from .sim.synth import synth_directory
    quiet = args.quiet or args.json
    progress = Progress(enabled=not quiet)
    targets = args.target or ["ice40"]
    results = synth_directory(args.directory, targets, flow=args.flow,
                              baseline=not args.no_baseline, seeds=args.seeds, freq=args.freq,
                              progress=progress)
    progress.done()
    if args.json:
        print(json.dumps(results, sort_keys=True))
    elif not args.quiet:
        from .hdl.report import load_report
        print(_synth_table(load_report(args.directory)["top"], results))
        print(f"added synth.{{{','.join(results)}}} to {Path(args.directory) / 'report.json'}; "
              f"tool files in {Path(args.directory) / 'synth'}")
    return 0


# --------------------------------------------------------------------------- inspect

def cmd_inspect(args):
    from .hdl.inspect import format_text, inspect_directory
    schematic = {"auto": None, "yes": True, "no": False}[args.schematic]
    infos, written = inspect_directory(args.directory, plots=not args.no_plots,
                                       schematic=schematic)
    if args.json:
        print(json.dumps(infos[0] if len(infos) == 1 else infos, sort_keys=True))
    elif not args.quiet:
        print("\n".join(format_text(info, max_outputs=args.max_outputs) for info in infos),
              end="")
        print("\nwrote " + ", ".join(str(p) for p in written))
    return 0


def add_parsers(sub):
    """Register ``synth`` and ``inspect`` on the CLI's subparsers."""
    from .sim.synth import FLOWS, TARGETS
    syn = sub.add_parser(
        "synth", help="Yosys + nextpnr: LUTs, FFs, carry cells, depth, Fmax vs a baseline",
        description="Synthesize a generated design with Yosys and place-and-route it with "
                    "nextpnr (yowasp builds), beside plainly written behavioural RTL of the "
                    "same operation; adds synth.<target> to report.json.")
    syn.add_argument("directory")
    syn.add_argument("--target", action="append", choices=TARGETS,
                     help="generic, ice40 or ecp5 (repeat for several; default ice40)")
    syn.add_argument("--flow", default="auto", choices=FLOWS,
                     help="carry: the target's default script with carry chains; nocarry: "
                          "no carry chains; lut4 / nocarry-lut4 (ECP5): no LUT5-7 built from "
                          "PFU muxes; auto: every variant of the target, keep each design's "
                          "smallest (default)")
    syn.add_argument("--no-baseline", action="store_true",
                     help="skip the behavioural baseline")
    syn.add_argument("--seeds", type=int, default=1,
                     help="nextpnr seeds 1..N; Fmax is their median (default 1)")
    syn.add_argument("--freq", type=float, help="clock target for nextpnr in MHz "
                     "(default 100 on ice40, 200 on ecp5; the achieved Fmax is reported)")
    syn.add_argument("--json", action="store_true", help="print the figures as JSON")
    syn.add_argument("--quiet", action="store_true", help="print nothing; exit status only")
    syn.set_defaults(func=cmd_synth)

    ins = sub.add_parser(
        "inspect", help="neurons per stage and block, depth, histograms, output-bit cones",
        description="Show the structure of a generated design and write plots "
                    "(inspect/levels.png, inspect/stages.png), a schematic of small designs "
                    "(inspect/schematic.svg) and inspect/inspect.json.")
    ins.add_argument("directory")
    ins.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    ins.add_argument("--schematic", default="auto", choices=("auto", "yes", "no"),
                     help="draw inspect/schematic.svg (auto: when the design is small)")
    ins.add_argument("--max-outputs", type=int, default=64,
                     help="output bits listed in the text report")
    ins.add_argument("--json", action="store_true")
    ins.add_argument("--quiet", action="store_true")
    ins.set_defaults(func=cmd_inspect)
