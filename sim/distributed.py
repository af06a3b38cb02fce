"""Exhaustive sweeps sharded over processes with ``torch.distributed``.

Each rank enumerates its own contiguous slice of ``[start, stop)`` on its own device (NCCL
and ``cuda:<local rank>`` on GPUs, gloo on CPUs), runs :func:`.exhaustive.exhaustive_sweep`
on it, and the ranks combine their results with collectives: the mismatch counts and vector
totals by an all-reduce, the first mismatches by an all-gather (ordered by input index). A
rank that fails -- an exception, or a peer that died -- fails the whole run with a message
naming the rank; there is no silent partial pass: the totals must add up to the range.

Launch with ``torchrun --nproc-per-node N -m spikegate.cli verify DIR --exhaustive`` (the
environment gives rank and world size), or from Python with :func:`spawn_sweep`.
"""

from __future__ import annotations

import os

__all__ = ["shard", "sweep_rank", "spawn_sweep", "in_torchrun"]


def in_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def shard(start: int, stop: int, rank: int, world: int) -> tuple[int, int]:
    """Rank ``rank``'s contiguous slice of ``[start, stop)`` (sizes differ by at most one)."""
    n = stop - start
    lo = start + (n * rank) // world
    hi = start + (n * (rank + 1)) // world
    return lo, hi


def sweep_rank(netlist, *, start=0, stop=None, chunk=None, keep=5):
    """This rank's share of the sweep, combined over the process group: every rank returns
    the same :class:`~.fast_engine.ExhaustiveResult` (``device`` names the ranks).
    Initialises the default group from the environment if there is none."""
    import time

    import torch
    import torch.distributed as dist

    from .exhaustive import exhaustive_sweep
    from .fast_engine import ExhaustiveResult
    created = not dist.is_initialized()
    if created:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
    backend = dist.get_backend()
    rank, world = dist.get_rank(), dist.get_world_size()
    space = 1 << sum(len(v) for v in netlist.inputs.values())
    stop = space if stop is None else stop
    lo, hi = shard(start, stop, rank, world)
    device = None
    if backend == "nccl":
        local = int(os.environ.get("LOCAL_RANK", rank))
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    elif not torch.cuda.is_available():
        device = "cpu"
    t0 = time.perf_counter()
    error = ""
    count = total = 0
    first = []
    try:
        if hi > lo:
            r = exhaustive_sweep(netlist, device=device or "cpu", start=lo, stop=hi,
                                 chunk=chunk)
            count, total = r.count, r.total
            first = [(lo, m) for m in r.first[:keep]]
    except Exception as exc:                   # reported through the collectives below
        error = f"rank {rank}: {type(exc).__name__}: {exc}"
    dev = torch.device(device if device and device.startswith("cuda") else "cpu")
    sums = torch.tensor([count, total, 1 if error else 0], dtype=torch.int64, device=dev)
    dist.all_reduce(sums)
    gathered = [None] * world
    dist.all_gather_object(gathered, (error, first))
    seconds = time.perf_counter() - t0
    if created:
        dist.destroy_process_group()
    errors = [e for e, _ in gathered if e]
    if errors:
        raise RuntimeError(f"sweep failed on {len(errors)} of {world} ranks: {errors[0]}")
    count, total = int(sums[0]), int(sums[1])
    if total != stop - start:
        raise RuntimeError(f"sweep covered {total:,} of {stop - start:,} vectors: a rank's "
                           f"slice is missing, so nothing is proved")
    merged = [m for _, f in gathered for _, m in f][:keep]
    return ExhaustiveResult(netlist.name, count, total, merged, seconds,
                            device=f"{world} ranks ({backend})", backend=backend)


def _spawned(rank, world, port, backend, netlist_dict, meta, start, stop, out):
    import torch.distributed as dist

    from ..gen.netlist import Netlist
    os.environ["LOCAL_RANK"] = str(rank)
    dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world)
    try:
        netlist = Netlist.from_dict(netlist_dict)
        netlist.meta.update(meta)
        result = sweep_rank(netlist, start=start, stop=stop)
        if rank == 0:
            out.put(result)
    finally:
        dist.destroy_process_group()


def spawn_sweep(netlist, *, world=2, start=0, stop=None, meta=None,
                backend="gloo"):
    """Run the sweep on ``world`` local processes (``gloo``: CPUs; ``nccl``: one GPU per
    rank), for ``--gpus N`` and the tests; returns rank 0's combined result."""
    import socket

    import torch.multiprocessing as mp
    spec = netlist.to_dict()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    out = ctx.SimpleQueue()
    mp.start_processes(_spawned, args=(world, port, backend, spec, dict(meta or netlist.meta), start, stop,
                                       out), nprocs=world,
                       join=True, start_method="spawn")
    return out.get()
