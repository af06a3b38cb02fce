"""Batched evaluation of a neuron netlist with PyTorch (CPU, or CUDA when present).

The netlist is compiled level by level: each level is one small dense matrix over just the
nets it reads, so a batch of vectors moves through a whole FP8 unit in ``depth`` matrix
products. Values are exact: weights, thresholds and sums are small integers in float32.
"""

from __future__ import annotations

import numpy as np
import torch

from ..gen.netlist import CONST1, Netlist

__all__ = ["TorchEngine", "default_device"]


def default_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchEngine:
    """Evaluate ``netlist`` on batches of bus values.

    Parameters
    ----------
    netlist : Netlist
    device : str or None
        ``"cpu"``, ``"cuda"``; None picks CUDA when available, else CPU.
    """

    def __init__(self, netlist: Netlist, *, device=None):
        if not isinstance(netlist, Netlist):
            raise TypeError(f"netlist must be a Netlist, not {netlist!r}")
        device = device or default_device()
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' requested but torch sees no GPU: use --device cpu")
        self.netlist, self.device = netlist, torch.device(device)
        level = netlist.levels()
        by_level = {}
        for neuron in netlist.neurons:
            by_level.setdefault(level[neuron.out], []).append(neuron)
        self.levels = []
        for lv in sorted(by_level):
            neurons = by_level[lv]
            reads = sorted({i for n in neurons for i in n.inputs})
            col = {net: j for j, net in enumerate(reads)}
            w = torch.zeros(len(neurons), len(reads))
            for r, n in enumerate(neurons):
                for i, wt in zip(n.inputs, n.weights):
                    w[r, col[i]] = wt
            self.levels.append((
                torch.tensor(reads, device=self.device),
                w.to(self.device),
                torch.tensor([[n.threshold - n.bias] for n in neurons], dtype=torch.float32,
                             device=self.device),
                torch.tensor([n.out for n in neurons], device=self.device)))

    def run(self, inputs: dict, *, batch=1 << 16):
        """Bus name -> integer array in; bus name -> numpy uint64 array out."""
        missing = set(self.netlist.inputs) - set(inputs)
        if missing:
            raise ValueError(f"missing input buses {sorted(missing)}: give a value array for "
                             f"every input of {self.netlist.name!r}")
        arrays = {k: np.asarray(v, dtype=np.uint64) for k, v in inputs.items()}
        count = len(next(iter(arrays.values())))
        outs = {bus: [] for bus in self.netlist.outputs}
        for start in range(0, count, batch):
            chunk = {k: torch.from_numpy(v[start:start + batch].astype(np.int64)).to(self.device)
                     for k, v in arrays.items()}
            for bus, value in self._run_chunk(chunk).items():
                outs[bus].append(value)
        return {bus: np.concatenate(parts) if parts else np.zeros(0, np.uint64)
                for bus, parts in outs.items()}

    def _run_chunk(self, chunk):
        n = len(next(iter(chunk.values())))
        state = torch.zeros(self.netlist.net_count, n, device=self.device)
        state[CONST1] = 1
        for bus, nets in self.netlist.inputs.items():
            value = chunk[bus]
            for i, net in enumerate(nets):
                state[net] = ((value >> i) & 1).float()
        for reads, w, th, outs in self.levels:
            state[outs] = ((w @ state[reads]) >= th).float()
        result = {}
        for bus, nets in self.netlist.outputs.items():
            bits = state[list(nets)].to(torch.int64)
            shifts = torch.arange(len(nets), device=self.device).unsqueeze(1)
            result[bus] = (bits << shifts).sum(0).cpu().numpy().astype(np.uint64)
        return result
