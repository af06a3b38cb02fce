"""``verify --exhaustive``: every input of a unit whose inputs total at most 32 bits.

The sweep runs on the fast engine (:mod:`.fast_engine`: a netlist-specialised kernel on
CUDA, a compiled C kernel on the CPU) with the inputs enumerated where the engine runs and
the golden computed beside it: for float ops torch's own arithmetic on the device
(:func:`~spikegate.golden.torch_float.torch_op_codes`), otherwise the unit's registry
golden on the CPU, chunk by chunk. Ranges make a long sweep resumable: each finished run
appends its ``[start, stop)`` and result to ``exhaustive.json`` in the design's folder, so
what is proved so far is on record.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..hdl.atomic import write_file

__all__ = ["exhaustive_sweep", "record_sweep", "MAX_BITS"]

MAX_BITS = 32


def _golden(netlist):
    meta = netlist.meta
    from ..golden.torch_float import has_torch_golden
    from .units import FLOAT_OPS
    unit = meta.get("unit")
    if unit in FLOAT_OPS and unit != "fsqrt" and has_torch_golden(meta["format"],
                                                                  meta["policy"]):
        from ..golden.torch_float import torch_op_codes

        def golden(inputs):
            return {"y": torch_op_codes(unit, meta["format"],
                                        *(inputs[p] for p in ("a", "b") if p in inputs))}
        return golden
    from .regress import golden_outputs

    def golden(inputs):                        # the registry golden, on the CPU
        import torch
        dev = next(iter(inputs.values())).device
        host = {k: v.cpu().numpy().astype(np.uint64) for k, v in inputs.items()}
        return {k: torch.from_numpy(np.asarray(v).astype(np.int64)).to(dev)
                for k, v in golden_outputs(netlist, host).items()}
    return golden


def exhaustive_sweep(netlist, *, device=None, start=0, stop=None, chunk=None,
                     progress=None):
    """Run ``[start, stop)`` of the input space against the golden; an
    :class:`~.fast_engine.ExhaustiveResult`."""
    bits = sum(len(v) for v in netlist.inputs.values())
    if bits > MAX_BITS:
        raise ValueError(f"{netlist.name} has {bits} input bits: --exhaustive runs units of at "
                         f"most {MAX_BITS} (use --vectors N for random and corner vectors)")
    from .fast_engine import exhaustive_check
    return exhaustive_check(netlist, _golden(netlist), device=device, chunk=chunk,
                            start=start, stop=stop, progress=progress)


def record_sweep(directory, result, *, start, stop, top, extra=None):
    """Append one finished range to ``DIR/exhaustive.json`` (written atomically);
    ``extra``: more fields of the range (a faithful unit's correctly rounded count)."""
    path = Path(directory) / "exhaustive.json"
    runs = json.loads(path.read_text()) if path.exists() else {"top": top, "ranges": []}
    runs["ranges"].append({"start": start, "stop": stop, "vectors": result.total,
                           "mismatches": result.count, "device": result.device,
                           "seconds": round(result.seconds, 3),
                           "date": time.strftime("%Y-%m-%d"), **(extra or {})})
    done = sorted((r["start"], r["stop"]) for r in runs["ranges"] if r["mismatches"] == 0)
    covered, end = 0, None
    for lo, hi in done:                        # union of the clean ranges
        if end is None or lo > end:
            covered += hi - lo
            end = hi
        elif hi > end:
            covered += hi - end
            end = hi
    runs["proved_vectors"] = covered
    write_file(path, json.dumps(runs, indent=1) + "\n")
    return runs
