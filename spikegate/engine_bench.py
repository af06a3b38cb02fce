"""``spikegate bench engine``: throughput of the torch engine (CPU or CUDA).

``fp8-mul`` / ``fp8-add`` time all 65,536 pairs (``--vectors N`` tiles them to N), checked
bit-exact against the golden once; ``dot64`` times random vectors through a 64-element
FP8 dot product. No dot-product unit exists in the generator yet, so ``dot64`` is built
here from blocks: 64 FP8 multipliers and a balanced tree of 63 FP8 adders (each rounding
to FP8, as the sources' tree-order linear layer does), embedded into one netlist; its
golden is the same tree on the exact FP8 tables. Figures are printed, never asserted.

Every run times the fast path (:mod:`spikegate.sim.fast_engine`: a kernel generated for
the netlist, C on the CPU, Triton on CUDA) beside the reference TorchEngine, on the same
inputs in the same process, so that a busy machine slows both alike. For the FP8 units it
also times an exhaustive check: inputs enumerated and compared with the golden table where
the kernel runs (``check_sweeps`` sweeps of all 65,536 pairs per timed run).

``fp16-add`` / ``fp16-mul`` are exhaustive-sweep benchmarks over 2^32 pairs: the fast
path checks ``--vectors`` consecutive pairs against a torch golden evaluated chunk by
chunk on the same device (canonical NaN), the time for all 2^32 is extrapolated, and with
``--full`` (or on a GPU when the extrapolation is under a minute) the whole space is run.
TorchEngine is timed beside it on 65,536 random pairs.
"""

from __future__ import annotations

import json
import os
import statistics
import time

import numpy as np

__all__ = ["build_dot_tree", "dot_tree_golden", "dot_tree_check_golden", "bench_engine",
           "add_engine_arguments", "cmd_bench_engine", "float_golden", "build_fp16_unit"]

ENGINE_UNITS = ("fp8-mul", "fp8-add", "dot64", "fp16-add", "fp16-mul")
FP16_UNITS = {"fp16-add": "fadd", "fp16-mul": "fmul"}
#: an fp16 sweep runs all 2^32 pairs on the GPU when it is extrapolated under this
FULL_SWEEP_SECONDS = 60.0


def build_dot_tree(fmt="e4m3", n=64, *, policy="torch"):
    """``y = sum_i a_i * b_i`` as a tree of FP8 units: inputs ``a0..``, ``b0..``, output y."""
    from .gen.builder import NetlistBuilder
    from .gen.fp8 import build_fp8_add, build_fp8_mul
    if n < 1 or n & (n - 1):
        raise ValueError(f"n must be a power of two, not {n}")
    mul, add = build_fp8_mul(fmt, policy=policy), build_fp8_add(fmt, policy=policy)
    b = NetlistBuilder(f"fp8_dot{n}_tree_{fmt}")
    a_in = [b.input(f"a{i}", 8) for i in range(n)]
    b_in = [b.input(f"b{i}", 8) for i in range(n)]
    terms = [b.embed(mul, {"a": a_in[i], "b": b_in[i]}, block=f"mul{i}")["y"] for i in range(n)]
    level = 0
    while len(terms) > 1:
        terms = [b.embed(add, {"a": terms[j], "b": terms[j + 1]}, block=f"add{level}_{j // 2}")
                 ["y"] for j in range(0, len(terms), 2)]
        level += 1
    b.output("y", terms[0])
    b.meta.update(unit=f"fp8-dot{n}-tree", format=fmt, policy=policy)
    return b.build()


def dot_tree_golden(fmt, a, b, policy="torch"):
    """Golden of :func:`build_dot_tree` from the exact FP8 tables (``a``, ``b``: n x V
    numpy arrays, or int64 torch tensors, evaluated where they are: on the GPU for
    :func:`~spikegate.sim.fast_engine.random_check`)."""
    from .golden.fp8 import add_table, mul_table
    mt, at = mul_table(fmt, policy), add_table(fmt, policy)
    if not isinstance(a, np.ndarray):
        import torch
        mt, at = (torch.as_tensor(t.astype(np.int64), device=a.device) for t in (mt, at))
    terms = [mt[a[i], b[i]] for i in range(len(a))]
    while len(terms) > 1:
        terms = [at[terms[j], terms[j + 1]] for j in range(0, len(terms), 2)]
    return terms[0].astype(np.uint64) if isinstance(a, np.ndarray) else terms[0]


def dot_tree_check_golden(fmt, n, policy="torch"):
    """:func:`dot_tree_golden` as a golden callable (bus dict in) for ``random_check``."""
    import torch

    def golden(inputs):
        a = torch.stack([inputs[f"a{i}"] for i in range(n)])
        b = torch.stack([inputs[f"b{i}"] for i in range(n)])
        return {"y": dot_tree_golden(fmt, a, b, policy)}
    return golden


def _time(fn, repeat):
    """Best and median wall time, and the process CPU time of the best run."""
    fn()                                                   # warm-up (allocations, kernels)
    times, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    best = min(range(repeat), key=times.__getitem__)
    return times[best], statistics.median(times), cpu[best]


def build_fp16_unit(unit):
    """The fp16 adder or multiplier netlist (any-format float generators)."""
    if unit == "fp16-add":
        from .gen.float_add import build_fadd
        return build_fadd("fp16")
    from .gen.float_mul import build_fmul
    return build_fmul("fp16")


def float_golden(op, fmt="fp16"):
    """A device golden for :func:`~spikegate.sim.fast_engine.exhaustive_check`: torch in
    float32 rounded once to ``fmt`` (correctly rounded for 16-bit formats), NaN canonical,
    computed on whatever device the input tensors are on."""
    import torch

    from .golden.formats import get_format
    f = get_format(fmt)
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[f.name]
    canon = int(f.canonical_nan)

    def decode(v):
        v = v.to(torch.int32)
        return (v - ((v >> 15) & 1) * 65536).to(torch.int16).view(dtype).float()

    def golden(inputs):
        a, b = decode(inputs["a"]), decode(inputs["b"])
        y = (a + b) if op == "fadd" else (a * b)
        y = y.to(dtype)
        codes = y.view(torch.int16).to(torch.int32) & 0xFFFF
        return {"y": torch.where(torch.isnan(y), canon, codes)}
    return golden


def _fast_figures(netlist, inputs, expected, device, repeat, count, st):
    """The fast path on the same inputs: end to end, and device-resident on a GPU."""
    import torch

    from .sim.fast_engine import FastEngine
    t0 = time.perf_counter()
    fast = FastEngine(netlist, device=device)
    got = fast.run(inputs)["y"]
    build = time.perf_counter() - t0                  # compile (or cache load) + first run
    bad = int((got != expected).sum())
    best, median, cpu = _time(lambda: fast.run(inputs), repeat)
    r = {"backend": fast.backend, "pairs_per_s": round(count / best),
         "pairs_per_s_median": round(count / median), "seconds_best": round(best, 5),
         "neuron_evals_per_s": round(count * st["neurons"] / best),
         "cpu_seconds_best": round(cpu, 5), "bit_exact": bad == 0, "mismatches": bad,
         "build_seconds": round(build, 2),
         "includes": "host->device inputs, evaluation, device->host outputs"}
    if fast.device.type == "cuda":
        x = torch.stack([torch.as_tensor(np.asarray(inputs[b]).astype(np.int64))
                         for b in netlist.inputs]).to(fast.device)

        def resident():
            fast.run_tensor(x)
            torch.cuda.synchronize(fast.device)
        best, median, _ = _time(resident, repeat)
        r["device_resident_pairs_per_s"] = round(count / best)
        r["device_resident_pairs_per_s_median"] = round(count / median)
    return fast, r


def _check_figures(netlist, golden, fast, repeat, sweeps):
    """Exhaustive check throughput: inputs enumerated, compared where the kernel runs."""
    from .sim.fast_engine import exhaustive_check
    res = exhaustive_check(netlist, golden, engine=fast)          # warm-up, and the verdict
    times = []
    for _ in range(repeat):
        r = exhaustive_check(netlist, golden, engine=fast, repeat=sweeps)
        times.append(r.seconds)
    best = min(times)
    return {"check_pairs": r.total, "check_sweeps": sweeps,
            "check_pairs_per_s": round(r.total / best),
            "check_pairs_per_s_median": round(r.total / statistics.median(times)),
            "check_seconds_best": round(best, 5), "check_mismatches": res.count,
            "includes": "inputs enumerated and checked against the golden table on the device; "
                        "only the mismatch count crosses"}


def _random_figures(netlist, golden, fast, repeat, count):
    """Random-vector check throughput: vectors drawn, evaluated and compared with a torch
    golden where the kernel runs (a GPU returns only the counts)."""
    from .sim.fast_engine import random_check
    # a GPU needs many vectors per run to be timed at all; the CPU runs dot64 on TorchEngine
    count = max(count, 1 << 24) if fast.device.type == "cuda" else min(count, 1 << 16)
    res = random_check(netlist, golden, engine=fast, vectors=min(count, 1 << 22))   # warm-up
    times = []
    for k in range(repeat):
        r = random_check(netlist, golden, engine=fast, vectors=count, seed=k + 1)
        times.append(r.seconds)
        res = r if r.count else res
    best = min(times)
    return {"check_vectors": count, "check_vectors_per_s": round(count / best),
            "check_vectors_per_s_median": round(count / statistics.median(times)),
            "check_seconds_best": round(best, 5), "check_mismatches": res.count,
            "check_first": [line for line in res.describe().splitlines()[1:4]],
            "includes": "random vectors drawn on the device, the golden (exact FP8 tables) "
                        "on the device, compared there; only the mismatch count crosses"}


#: NEXUS's FP8 modules, by the unit they compete with (E4M3 only)
NEXUS_UNITS = {"fp8-mul": "SpikeFP8Multiplier", "fp8-add": "SpikeFP8Adder_Spatial"}


def _check_nexus(unit, fmt, path, fast):
    """Refuse a ``--peer-nexus`` run before minutes of benchmarking would be wasted."""
    if unit not in NEXUS_UNITS or fmt != "e4m3":
        raise ValueError(f"--peer-nexus compares the E4M3 units {', '.join(NEXUS_UNITS)} "
                         f"(NEXUS has no {unit} in {fmt})")
    if not fast:
        raise ValueError("--peer-nexus compares with the fast path: drop --no-fast")
    if not os.path.isfile(os.path.join(path, "atomic_ops", "__init__.py")):
        raise ValueError(f"--peer-nexus {path}: no atomic_ops/ package there; give the root of "
                         f"a NEXUS checkout (git clone https://github.com/Brain2nd/NEXUS)")


def _nexus_figures(unit, path, a, b, expected, device, repeat):
    """NEXUS's own FP8 unit from a checkout at ``path``, on the same pairs in this process
    (its bits MSB first, float 0/1 spikes, bit-exact mode): pairs/s and how many of its
    results equal the exact table. Nothing of NEXUS is copied; it is imported from there."""
    import sys

    import torch
    sys.path.insert(0, os.path.abspath(path))
    try:
        import atomic_ops
    finally:
        sys.path.pop(0)
    module = getattr(atomic_ops, NEXUS_UNITS[unit])().to(device)
    shifts = torch.arange(7, -1, -1, device=device)

    def spikes(v):
        v = torch.as_tensor(np.asarray(v).astype(np.int64), device=device)
        return ((v[:, None] >> shifts) & 1).to(torch.float32)
    A, B = spikes(a), spikes(b)

    def run():
        with torch.no_grad(), atomic_ops.SpikeMode.bit_exact():
            y = module(A, B)
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize(device)
        return y
    y = run()
    codes = ((y > 0.5).to(torch.int64) << shifts).sum(-1).cpu().numpy().astype(np.uint64)
    equal = float((codes == np.asarray(expected, dtype=np.uint64)).mean())
    best, median, _ = _time(run, repeat)
    return {"module": NEXUS_UNITS[unit], "pairs": len(codes),
            "pairs_per_s": round(len(codes) / best),
            "pairs_per_s_median": round(len(codes) / median),
            "bit_exact_fraction": round(equal, 6),
            "includes": "spike tensors made before timing, on the device; forward only"}


def bench_fp16(unit, *, device="cpu", vectors=None, repeat=3, full=None, seed=0):
    """Exhaustive-sweep figures of the fp16 adder/multiplier (2^32 pairs)."""
    import torch

    from .sim.fast_engine import FastEngine, exhaustive_check
    from .sim.torch_engine import TorchEngine, resolve_device
    device = resolve_device(device)
    t0 = time.perf_counter()
    netlist = build_fp16_unit(unit)
    golden = float_golden(FP16_UNITS[unit])
    build_s = time.perf_counter() - t0
    fast = FastEngine(netlist, device=device)
    gpu = fast.device.type == "cuda"
    count = vectors or (1 << 30 if gpu else 1 << 22)
    space = 1 << 32
    exhaustive_check(netlist, golden, engine=fast, stop=min(count, 1 << 20))   # warm-up
    times = []
    for k in range(repeat):
        lo = (k * count) % (space - count + 1)            # a different slice each time
        r = exhaustive_check(netlist, golden, engine=fast, start=lo, stop=lo + count)
        times.append(r.seconds)
        mismatches = r.count
    best = min(times)
    rate = count / best
    st = netlist.stats()
    out = {"unit": unit, "format": "fp16", "netlist": netlist.name, "device": str(fast.device),
           "device_name": torch.cuda.get_device_name(fast.device) if gpu else "cpu",
           "threads": torch.get_num_threads(), "torch": torch.__version__,
           "neurons": st["neurons"], "synapses": st["synapses"], "depth": st["depth"],
           "fast": {"backend": fast.backend, "check_pairs": count,
                    "check_pairs_per_s": round(rate),
                    "check_pairs_per_s_median": round(count / statistics.median(times)),
                    "check_seconds_best": round(best, 4), "check_mismatches": mismatches,
                    "all_pairs_seconds_extrapolated": round(space / rate, 1),
                    "includes": "inputs enumerated on the device, torch golden per chunk on "
                                "the device, compared in the kernel"},
           "build_seconds": round(build_s, 2), "repeat": repeat,
           "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
    if full or (full is None and gpu and space / rate <= FULL_SWEEP_SECONDS):
        r = exhaustive_check(netlist, golden, engine=fast)
        out["fast"].update(all_pairs_seconds=round(r.seconds, 2), all_pairs_mismatches=r.count,
                           all_pairs_first=[format_m for format_m in
                                            r.describe().splitlines()[1:4]])
    # the reference engine beside it, on random pairs
    rng = np.random.default_rng(seed)
    n_ref = 65536
    ab = rng.integers(0, 1 << 16, size=(2, n_ref), dtype=np.int64)
    ref = TorchEngine(netlist, device=device)
    inputs = {"a": ab[0].astype(np.uint64), "b": ab[1].astype(np.uint64)}
    t_in = {k: torch.as_tensor(v.astype(np.int64), device=fast.device) for k, v in inputs.items()}
    want = golden(t_in)["y"].cpu().numpy().astype(np.uint64)
    got = ref.run(inputs)["y"]
    rbest, rmedian, _ = _time(lambda: ref.run(inputs), repeat)
    out["reference"] = {"engine": "TorchEngine", "pairs": n_ref,
                        "pairs_per_s": round(n_ref / rbest),
                        "all_pairs_seconds_extrapolated": round(space / (n_ref / rbest), 1),
                        "bit_exact": bool((got == want).all()),
                        "mismatches": int((got != want).sum())}
    out["speedup"] = round(rate / (n_ref / rbest), 1)
    out["bit_exact"] = mismatches == 0 and out["reference"]["bit_exact"] and \
        out["fast"].get("all_pairs_mismatches", 0) == 0
    return out


def bench_engine(unit, *, fmt="e4m3", device="cpu", vectors=None, repeat=5, seed=0,
                 batch=None, fast=True, check_sweeps=None, full=None, peer_nexus=None):
    """Throughput figures as a JSON-ready dict (best of ``repeat`` runs, and the median).

    The top-level figures are the reference TorchEngine's; ``fast`` holds the fast path's
    on the same inputs (and ``speedup``), and for the FP8 units its exhaustive-check rate.
    ``peer_nexus``: the root of a NEXUS checkout, whose own FP8 unit is then timed on the
    same pairs in the same run (``nexus``, and the fast path's ``speedup_vs_nexus``).
    """
    import torch

    from .sim.torch_engine import TorchEngine, resolve_device
    try:                                    # the unit table moved to spikegate.sim.units
        from .sim.units import build_unit
    except ImportError:
        from .units import build_unit
    device = resolve_device(device)
    if unit not in ENGINE_UNITS:
        raise ValueError(f"unknown engine benchmark unit {unit!r}: choose one of "
                         f"{', '.join(ENGINE_UNITS)}")
    if peer_nexus is not None:
        _check_nexus(unit, fmt, peer_nexus, fast)
    if unit in FP16_UNITS:
        return bench_fp16(unit, device=device, vectors=vectors, repeat=min(repeat, 3),
                          full=full, seed=seed)
    t0 = time.perf_counter()
    table = None
    if unit == "dot64":
        netlist = build_dot_tree(fmt, 64)
        count = vectors or 1_000_000
        rng = np.random.default_rng(seed)
        a = rng.integers(0, 256, size=(64, count), dtype=np.uint8)
        b = rng.integers(0, 256, size=(64, count), dtype=np.uint8)
        inputs = {**{f"a{i}": a[i] for i in range(64)}, **{f"b{i}": b[i] for i in range(64)}}
        expected = dot_tree_golden(fmt, a, b)
    else:
        # the exact, torch-free tables (equal to torch 2.13's results under the "torch"
        # policy): the GPU machine may carry another torch release
        from .golden.fp8 import add_table, mul_table
        from .sim.regress import exhaustive_inputs
        netlist = build_unit(unit, fmt=fmt)
        base = exhaustive_inputs(netlist)
        table = mul_table(fmt) if unit == "fp8-mul" else add_table(fmt)
        exp = table[base["a"].astype(np.int64), base["b"].astype(np.int64)].astype(np.uint64)
        count = vectors or len(exp)
        reps = -(-count // len(exp))
        inputs = {k: np.tile(v, reps)[:count] for k, v in base.items()}
        expected = np.tile(exp, reps)[:count]
    build_s = time.perf_counter() - t0
    engine = TorchEngine(netlist, device=device)
    check = engine.run(inputs, batch=batch)["y"]
    mismatches = int((check != expected).sum())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    best, median, cpu = _time(lambda: engine.run(inputs, batch=batch), repeat)
    st = netlist.stats()
    result = {
        "unit": unit, "format": fmt, "netlist": netlist.name, "device": str(engine.device),
        "device_name": (torch.cuda.get_device_name(engine.device)
                        if engine.device.type == "cuda" else "cpu"),
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "vectors": count, "pairs": count, "neurons": st["neurons"],
        "synapses": st["synapses"], "depth": st["depth"],
        "seconds_best": round(best, 5), "seconds_median": round(median, 5),
        "pairs_per_s": round(count / best), "pairs_per_s_median": round(count / median),
        "neuron_evals_per_s": round(count * st["neurons"] / best),
        "synapse_evals_per_s": round(count * st["synapses"] / best),
        "cpu_seconds_best": round(cpu, 5),
        "pairs_per_cpu_s": round(count / cpu) if cpu > 0 else None,
        "load_average_1min": load,
        "bit_exact": mismatches == 0, "mismatches": mismatches,
        "build_seconds": round(build_s, 2), "repeat": repeat,
        "includes": "host->device inputs, evaluation, device->host outputs",
    }
    if fast:
        fe, figures = _fast_figures(netlist, inputs, expected, device, repeat, count, st)
        result["fast"] = figures
        result["speedup"] = round(figures["pairs_per_s"] / result["pairs_per_s"], 1)
        if table is not None:
            sweeps = check_sweeps or (4096 if fe.device.type == "cuda" else 64)
            golden = {"y": table.reshape(-1).astype(np.int64)}
            figures["exhaustive"] = _check_figures(netlist, golden, fe, repeat, sweeps)
        else:
            figures["random"] = _random_figures(netlist, dot_tree_check_golden(fmt, 64), fe,
                                                repeat, count)
        if peer_nexus is not None:
            peer = _nexus_figures(unit, peer_nexus, inputs["a"], inputs["b"], expected,
                                  device, repeat)
            result["nexus"] = peer
            fastest = figures.get("exhaustive", {}).get("check_pairs_per_s", 0)
            result["speedup_vs_nexus"] = {
                "fast_path": round(figures["pairs_per_s"] / peer["pairs_per_s"], 1),
                "exhaustive_check": round(fastest / peer["pairs_per_s"], 1),
                "torch_engine": round(result["pairs_per_s"] / peer["pairs_per_s"], 1)}
        checked = figures.get("exhaustive") or figures.get("random") or {}
        result["bit_exact"] = result["bit_exact"] and figures["bit_exact"] and \
            checked.get("check_mismatches", 0) == 0
    return result


def add_engine_arguments(parser):
    """Options of ``bench engine`` (added to the ``bench`` subcommand)."""
    parser.add_argument("unit", nargs="?", choices=ENGINE_UNITS,
                        help="bench engine: fp8-mul, fp8-add, dot64, fp16-add or fp16-mul")
    parser.add_argument("--format", default="e4m3", choices=("e4m3", "e5m2"))
    parser.add_argument("--device", default="cpu", help="bench engine: cpu or cuda")
    parser.add_argument("--vectors", type=int, help="bench engine: vectors per run "
                        "(default all 65,536 pairs; dot64: 10^6 random vectors)")
    parser.add_argument("--repeat", type=int, default=5, help="bench engine: timed runs")
    parser.add_argument("--batch", type=int, help="bench engine: vectors per chunk")
    parser.add_argument("--no-fast", dest="fast", action="store_false",
                        help="bench engine: time the reference TorchEngine only")
    parser.add_argument("--sweeps", type=int, help="bench engine: exhaustive-check sweeps of "
                        "the FP8 pair space per timed run (default 4096 on CUDA, 64 on CPU)")
    parser.add_argument("--full", action="store_true", default=None,
                        help="bench engine fp16-*: also check all 2^32 pairs")
    parser.add_argument("--peer-nexus", metavar="DIR",
                        help="bench engine fp8-mul/fp8-add: also time NEXUS's own unit from "
                             "this checkout, side by side in the same run")


def cmd_bench_engine(args):
    if args.unit is None:
        raise ValueError("bench engine needs a unit: " + ", ".join(ENGINE_UNITS))
    if args.vectors is not None and args.vectors < 1:
        raise ValueError(f"--vectors must be positive, not {args.vectors}")
    if args.repeat < 1:
        raise ValueError(f"--repeat must be positive, not {args.repeat}")
    sweeps = getattr(args, "sweeps", None)
    if sweeps is not None and sweeps < 1:
        raise ValueError(f"--sweeps must be positive, not {sweeps}")
    r = bench_engine(args.unit, fmt=args.format, device=args.device, vectors=args.vectors,
                     repeat=args.repeat, batch=args.batch, fast=getattr(args, "fast", True),
                     check_sweeps=sweeps, full=getattr(args, "full", None),
                     peer_nexus=getattr(args, "peer_nexus", None))
    if args.json:
        print(json.dumps(r, sort_keys=True))
        return 0 if r["bit_exact"] else 1
    if args.unit in FP16_UNITS:
        f, ref = r["fast"], r["reference"]
        print(f"{r['netlist']} on {r['device_name']}: fast path ({f['backend']}) checks "
              f"{f['check_pairs_per_s']:,} pairs/s against the torch golden, all 2^32 in "
              f"{f['all_pairs_seconds_extrapolated']:,} s (extrapolated); TorchEngine "
              f"{ref['pairs_per_s']:,} pairs/s ({ref['all_pairs_seconds_extrapolated']:,} s); "
              f"x{r['speedup']}")
        if "all_pairs_seconds" in f:
            print(f"  all 2^32 pairs checked in {f['all_pairs_seconds']} s: "
                  f"{f['all_pairs_mismatches']:,} mismatches")
        print(f"  bit-exact: {r['bit_exact']}")
        return 0 if r["bit_exact"] else 1
    print(f"{r['netlist']} on {r['device_name']}: TorchEngine {r['pairs_per_s']:,} vectors/s, "
          f"{r['neuron_evals_per_s']:,} neuron evals/s ({r['vectors']:,} vectors, best of "
          f"{r['repeat']}; bit-exact: {r['bit_exact']})")
    if "fast" in r:
        f = r["fast"]
        line = (f"  fast path ({f['backend']}): {f['pairs_per_s']:,} vectors/s "
                f"(x{r['speedup']})")
        if "device_resident_pairs_per_s" in f:
            line += f", {f['device_resident_pairs_per_s']:,} vectors/s with data on the device"
        print(line)
        if "random" in f:
            x = f["random"]
            print(f"  random vectors drawn and checked where it runs: "
                  f"{x['check_vectors_per_s']:,} vectors/s ({x['check_vectors']:,} vectors; "
                  f"{x['check_mismatches']} mismatches)")
        if "exhaustive" in f:
            x = f["exhaustive"]
            print(f"  exhaustive check, enumerated and checked where it runs: "
                  f"{x['check_pairs_per_s']:,} pairs/s ({x['check_sweeps']} sweeps of the "
                  f"pair space; {x['check_mismatches']} mismatches)")
    if "nexus" in r:
        p, x = r["nexus"], r["speedup_vs_nexus"]
        print(f"  NEXUS {p['module']} (same pairs, same run): {p['pairs_per_s']:,} pairs/s, "
              f"{100 * p['bit_exact_fraction']:.2f}% equal to the exact table; fast path "
              f"x{x['fast_path']}, exhaustive check x{x['exhaustive_check']}, TorchEngine "
              f"x{x['torch_engine']}")
    return 0 if r["bit_exact"] else 1
