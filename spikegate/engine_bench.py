"""``spikegate bench engine``: throughput of the torch engine (CPU or CUDA).

``fp8-mul`` / ``fp8-add`` time all 65,536 pairs (``--vectors N`` tiles them to N), checked
bit-exact against the golden once; ``dot64`` times random vectors through a 64-element
FP8 dot product. No dot-product unit exists in the generator yet, so ``dot64`` is built
here from blocks: 64 FP8 multipliers and a balanced tree of 63 FP8 adders (each rounding
to FP8, as the sources' tree-order linear layer does), embedded into one netlist; its
golden is the same tree on the exact FP8 tables. Figures are printed, never asserted.
"""

from __future__ import annotations

import json
import os
import statistics
import time

import numpy as np

__all__ = ["build_dot_tree", "dot_tree_golden", "bench_engine", "add_engine_arguments",
           "cmd_bench_engine"]

ENGINE_UNITS = ("fp8-mul", "fp8-add", "dot64")


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
    """Golden of :func:`build_dot_tree` from the exact FP8 tables (``a``, ``b``: n x V)."""
    from .golden.fp8 import add_table, mul_table
    mt, at = mul_table(fmt, policy), add_table(fmt, policy)
    terms = [mt[a[i], b[i]] for i in range(len(a))]
    while len(terms) > 1:
        terms = [at[terms[j], terms[j + 1]] for j in range(0, len(terms), 2)]
    return terms[0].astype(np.uint64)


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


def bench_engine(unit, *, fmt="e4m3", device="cpu", vectors=None, repeat=5, seed=0,
                 batch=None):
    """Throughput figures as a JSON-ready dict (best of ``repeat`` runs, and the median)."""
    import torch

    from .sim.torch_engine import TorchEngine, resolve_device
    from .units import build_unit
    device = resolve_device(device)
    if unit not in ENGINE_UNITS:
        raise ValueError(f"unknown engine benchmark unit {unit!r}: choose one of "
                         f"{', '.join(ENGINE_UNITS)}")
    t0 = time.perf_counter()
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
    return {
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


def add_engine_arguments(parser):
    """Options of ``bench engine`` (added to the ``bench`` subcommand)."""
    parser.add_argument("unit", nargs="?", choices=ENGINE_UNITS,
                        help="bench engine: fp8-mul, fp8-add or dot64")
    parser.add_argument("--format", default="e4m3", choices=("e4m3", "e5m2"))
    parser.add_argument("--device", default="cpu", help="bench engine: cpu or cuda")
    parser.add_argument("--vectors", type=int, help="bench engine: vectors per run "
                        "(default all 65,536 pairs; dot64: 10^6 random vectors)")
    parser.add_argument("--repeat", type=int, default=5, help="bench engine: timed runs")
    parser.add_argument("--batch", type=int, help="bench engine: vectors per chunk")


def cmd_bench_engine(args):
    if args.unit is None:
        raise ValueError("bench engine needs a unit: fp8-mul, fp8-add or dot64")
    if args.vectors is not None and args.vectors < 1:
        raise ValueError(f"--vectors must be positive, not {args.vectors}")
    if args.repeat < 1:
        raise ValueError(f"--repeat must be positive, not {args.repeat}")
    r = bench_engine(args.unit, fmt=args.format, device=args.device, vectors=args.vectors,
                     repeat=args.repeat, batch=args.batch)
    if args.json:
        print(json.dumps(r, sort_keys=True))
    else:
        print(f"{r['netlist']} on {r['device_name']}: {r['pairs_per_s']:,} vectors/s, "
              f"{r['neuron_evals_per_s']:,} neuron evals/s ({r['vectors']:,} vectors, best of "
              f"{r['repeat']}; bit-exact: {r['bit_exact']})")
    return 0 if r["bit_exact"] else 1
