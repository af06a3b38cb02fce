"""``spikegate generate transformer --model FILE`` and its ``verify``."""

from __future__ import annotations

import time
from pathlib import Path

__all__ = ["generate_transformer", "verify_transformer", "DEFAULT_SEQUENCES"]

#: Random token sequences ``verify`` streams by default (each takes thousands of cycles).
DEFAULT_SEQUENCES = 8


def generate_transformer(args):
    """A ``torch.save``'d :class:`~spikegate.golden.transformer.TransformerClassifier` as a
    neuron-processor design."""
    from .golden.transformer import from_torch
    from .hdl.transformer_design import write_transformer_design
    from .linear_cli import load_torch_model
    if not args.model:
        raise ValueError("generate transformer needs --model FILE (a torch.save'd "
                         "spikegate TransformerClassifier)")
    if args.format != "e4m3" or args.policy != "torch":
        raise ValueError("the transformer's precision is fixed (E4M3 operands, BF16 "
                         "activations, FP32 statistics): drop --format/--policy")
    q = from_torch(load_torch_model(args.model))
    command = (f"spikegate generate transformer --model {args.model}"
               + (f" --lanes {args.lanes}" if args.lanes else "")
               + f" --stages {args.stages} -o DIR")
    return write_transformer_design(q, args.output, stages=args.stages, lanes=args.lanes,
                                    force=args.force, command=command)


def verify_transformer(directory, report, *, simulator, sequences=None, seed=0):
    """Stream seeded token sequences through the design; every logit bit checked. Returns
    (sequences, seconds)."""
    from .hdl.transformer_design import load_model
    from .sim.transformer_run import check_sequences, token_sequences
    q = load_model(directory)
    count = sequences or DEFAULT_SEQUENCES
    tokens = token_sequences(q.config, count, seed=seed)
    text = (Path(directory) / report["verilog"]).read_text()
    start = time.perf_counter()
    check_sequences(q, text, report["top"], tokens, simulator=simulator, seed=seed)
    return count, time.perf_counter() - start
