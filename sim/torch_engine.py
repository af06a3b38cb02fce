"""Batched evaluation of a neuron netlist with PyTorch (CPU, or CUDA when present).

The netlist is compiled once: nets are renumbered into rows of one state matrix
(constants, input bits, then the neurons level by level, each level split by functional
block on a CPU when that saves work), so every layer writes one contiguous block of rows
and reads a few contiguous row ranges of earlier layers. A layer is then one
``torch.addmm`` per read range, straight into its rows, and in the ideal case one
in-place clamp: with integer sums, ``clamp(sum + bias - threshold + 1, 0, 1)`` is exactly
the fire bit. Layers of many independent sub-units side by side (a dot product's 64
multipliers) are block-sparse and use one CSR product instead. Values are exact (integers
far below 2**24 in float32; float64 is chosen automatically for netlists whose sums could
reach it). On a CPU the batch is cut into chunks evaluated on Python threads with
single-threaded ops, which on a small, busy machine beats intra-op threading.

Beyond the ideal threshold gate, :class:`~spikegate.sim.physics.Physics` puts the
non-idealities *inside every neuron*: synaptic noise per active synapse and evaluation,
a per-neuron threshold offset drawn once per simulated chip, stuck-at faults, and the
temporal mode in which membranes carry over between operations with LIF leak and soft or
hard reset. Runs are seeded: the same seed, device and batch give the same results.

Instances and streams
---------------------
``instances=S`` simulates S copies of the circuit ("chips"), each with its own threshold
offsets; vector ``i`` runs on copy ``i % S``. In temporal mode copy ``s`` is a stream that
evaluates its vectors ``s, s + S, s + 2S, ...`` in that order, starting from membranes at
rest; the S streams advance together, one vector each per step.

Temporal mode uses the *physical form* of each neuron: a netlist neuron
``[sum(w x) + bias >= threshold]`` integrates ``sum(w x) + b'`` against ``theta' >= 1``
with ``theta' = threshold - bias`` when that is at least 1, else ``theta' = 1`` and
``b' = 1 - (threshold - bias)`` (a neuron that fires at rest needs a bias current, not a
negative threshold). Gate mode is the same function either way.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from ..gen.netlist import CONST0, CONST1, Netlist
from .physics import IDEAL, Physics

__all__ = ["TorchEngine", "EngineResult", "default_device", "resolve_device"]

#: columns per chunk in gate mode: cache-sized on a CPU, large on a GPU, capped so that
#: one chunk's state matrix stays within a memory budget (bytes)
DEFAULT_BATCH = {"cpu": 16384, "cuda": 1 << 20}
STATE_BUDGET = {"cpu": 1 << 26, "cuda": 1 << 33}


def default_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(device):
    """``None``/``"auto"`` -> CUDA when torch sees a GPU, else CPU; errors name the fix."""
    if device in (None, "auto"):
        return default_device()
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be 'cpu', 'cuda' or None, not {device!r}")
    device = str(device)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch sees no GPU: use --device cpu "
                           "(or leave the device out to fall back to the CPU)")
    if not (device == "cpu" or device.startswith("cuda")):
        raise ValueError(f"unknown device {device!r}: choose cpu or cuda")
    return device


@dataclass
class EngineResult:
    """Outputs of a run, plus activity counters when ``activity=True`` was asked for.

    Counters are totals over all vectors: ``neuron_spikes`` per neuron (netlist order),
    ``input_spikes`` (primary input bits at 1), ``synaptic_events`` (a spike arriving at a
    synapse), ``synaptic_charge`` (sum of ``|w|`` over those events, in units of synaptic
    efficacy: see ``weight_unit`` in :mod:`spikegate.gen.harden`) and ``neuron_evals``.
    """

    outputs: dict
    vectors: int
    neuron_evals: int
    neuron_spikes: np.ndarray | None = None
    input_spikes: int = 0
    synaptic_events: int = 0
    synaptic_charge: float = 0.0
    physics: dict = field(default_factory=dict)

    def activity(self):
        """Mean figures per vector (one vector = one operation)."""
        n = max(self.vectors, 1)
        spikes = int(self.neuron_spikes.sum()) if self.neuron_spikes is not None else 0
        return {"neuron_evals_per_op": self.neuron_evals / n,
                "spikes_per_op": spikes / n,
                "input_spikes_per_op": self.input_spikes / n,
                "synaptic_events_per_op": self.synaptic_events / n,
                "synaptic_charge_per_op": self.synaptic_charge / n}


class _Level:
    __slots__ = ("lo", "hi", "q", "p", "w", "c", "fast_c", "gate_c", "theta", "bias",
                 "theta_t", "bias_t", "names", "n", "segs", "seg_w", "sparse")


#: one more matrix product costs about as much as this many multiply-adds per vector
CALL_COST = 16

#: a level goes sparse (CSR) when its dense segments hold this many times its synapses
#: and at least SPARSE_MIN weights
SPARSE_RATIO = 12
SPARSE_MIN = 1 << 14


def _csr(coo, shape, dtype, device):
    """CSR matrix from ``(rows, cols, values)`` (no duplicate positions)."""
    import warnings
    rows, cols, vals = coo
    order = np.lexsort((cols, rows))
    crow = np.zeros(shape[0] + 1, dtype=np.int64)
    np.add.at(crow, rows + 1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # "CSR support is in beta state"
        return torch.sparse_csr_tensor(
            torch.from_numpy(np.cumsum(crow)), torch.from_numpy(cols[order].copy()),
            torch.tensor(vals[order], dtype=dtype), size=shape).to(device)


#: merge two read segments of a level when the rows between them cost fewer
#: neuron x row products than this (one more matrix product costs about as much)
SEGMENT_MERGE = 64


def _segments(rows, n_neurons):
    """Contiguous row ranges covering ``rows``; gaps cheaper than a product are merged."""
    rows = sorted(set(rows)) or [1]
    segs = [[rows[0], rows[0] + 1]]
    for r in rows[1:]:
        if (r - segs[-1][1]) * n_neurons < SEGMENT_MERGE:
            segs[-1][1] = r + 1
        else:
            segs.append([r, r + 1])
    return [tuple(s) for s in segs]


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
        self.netlist = netlist
        self.device = torch.device(resolve_device(device))
        #: integer weight of one unit of synaptic efficacy (``harden`` sets it): absolute
        #: noise and threshold variation are given per unit
        self.unit = int(netlist.meta.get("weight_unit", 1))
        self._compile()

    # -- compilation -------------------------------------------------------------------
    def _compile(self):
        nl = self.netlist
        level = nl.levels()
        row = {CONST0: 0, CONST1: 1}
        self.input_rows = {}
        r = 2
        for bus, nets in nl.inputs.items():
            self.input_rows[bus] = (r, len(nets))
            for net in nets:
                row[net] = r
                r += 1
        self.n_input_rows = r - 2
        order = sorted(range(len(nl.neurons)), key=lambda k: (level[nl.neurons[k].out], k))
        groups = {}
        for k in order:
            groups.setdefault(level[nl.neurons[k].out], []).append(k)
        # physical form: theta' >= 1, bias' = theta' - (threshold - bias)
        big = 0
        self.levels = []
        self.neuron_row = {}
        fanout = np.zeros(r + len(order))
        charge = np.zeros(r + len(order))
        for ks in (part for lv in sorted(groups) for part in self._partition(groups[lv], row)):
            L = _Level()
            L.lo = r
            for k in ks:
                row[nl.neurons[k].out] = r
                self.neuron_row[nl.neurons[k].name] = r
                r += 1
            L.hi = r
            L.n = len(ks)
            reads = [row[i] for k in ks for i in nl.neurons[k].inputs]
            L.q = min(reads, default=1)
            L.p = max(reads, default=1) + 1
            L.segs = _segments(reads, L.n)
            entries = {}                             # (neuron, column) -> weight
            for j, k in enumerate(ks):
                neuron = nl.neurons[k]
                for i, wt in zip(neuron.inputs, neuron.weights):
                    key = (j, row[i] - L.q)
                    entries[key] = entries.get(key, 0) + wt
                    fanout[row[i]] += 1
                    charge[row[i]] += abs(wt)
                big = max(big, sum(abs(x) for x in neuron.weights)
                          + abs(neuron.bias) + abs(neuron.threshold) + 2)
            m = np.array([nl.neurons[k].threshold - nl.neurons[k].bias for k in ks], float)
            theta = np.maximum(m, 1.0)
            keys = np.array(list(entries), dtype=np.int64).reshape(-1, 2)
            L.w = (keys[:, 0], keys[:, 1], np.array(list(entries.values()), float))  # COO
            L.c = -m                                 # fires iff w @ x + c >= 0
            L.theta, L.bias = theta, theta - m
            L.names = [nl.neurons[k].name for k in ks]
            self.levels.append(L)
        self.rows = r
        # float32 is exact while every partial sum stays below 2**24
        self.dtype = torch.float32 if big < (1 << 23) else torch.float64
        dev, dt = self.device, self.dtype
        for L in self.levels:
            rows_j, cols, vals = L.w
            dense = L.n * sum(b - a for a, b in L.segs)
            # wide levels of many independent sub-units (a dot product's 64 multipliers)
            # are block-sparse: a CSR product beats dense segments there
            L.sparse = None
            if dense > SPARSE_RATIO * len(vals) and dense >= SPARSE_MIN:
                L.sparse = _csr(L.w, (L.n, L.p - L.q), dt, dev)
                L.segs = [(L.q, L.p)]
            else:
                w = np.zeros((L.n, L.p - L.q))
                w[rows_j, cols] = vals
                L.w = w
            L.fast_c = torch.tensor(L.c + 1.0, dtype=dt, device=dev).unsqueeze(1)
            L.gate_c = torch.tensor(L.c, dtype=dt, device=dev).unsqueeze(1)
            L.theta_t = torch.tensor(L.theta, dtype=dt, device=dev).unsqueeze(1)
            L.bias_t = torch.tensor(L.bias, dtype=dt, device=dev).unsqueeze(1)
            L.seg_w = [] if L.sparse is not None else [
                torch.tensor(L.w[:, a - L.q:b - L.q], dtype=dt, device=dev).contiguous()
                for a, b in L.segs]
            L.w = L.w if L.sparse is not None else torch.tensor(L.w, dtype=dt, device=dev)
        self._fanout = torch.tensor(fanout[:r], dtype=torch.float64)
        self._charge = torch.tensor(charge[:r], dtype=torch.float64)
        self.output_rows = {bus: torch.tensor([row[n] for n in nets], device=dev)
                            for bus, nets in nl.outputs.items()}
        self._pow2 = {bus: torch.tensor([[float(1 << i) for i in range(len(nets))]],
                                        dtype=dt, device=dev)
                      for bus, nets in nl.outputs.items() if len(nets) <= 24}
        self._noise_cache = {}

    def _partition(self, ks, row):
        """Split one neuron level into functional blocks when that saves work.

        A level's dense product covers every row any of its neurons reads; neurons of
        different blocks (product bits, exponent, rounding...) read different rows, so one
        product per block often does far fewer multiply-adds for a few more calls.
        Block-sparse levels (many copies of a unit side by side) stay whole: they go CSR.
        """
        nl = self.netlist
        if self.device.type != "cpu":      # a GPU is launch-bound: fewer, larger products
            return [ks]

        def cost(part):
            reads = [row[i] for k in part for i in nl.neurons[k].inputs]
            segs = _segments(reads, len(part))
            return len(part) * sum(b - a for a, b in segs), len(segs), len(reads)

        dense, calls, nnz = cost(ks)
        if dense > SPARSE_RATIO * nnz and dense >= SPARSE_MIN:
            return [ks]
        blocks = {}
        for k in ks:
            blocks.setdefault(nl.neurons[k].block.split("/")[0], []).append(k)
        if len(blocks) == 1:
            return [ks]
        split = [cost(part) for part in blocks.values()]
        if sum(d + CALL_COST * c for d, c, _ in split) < dense + CALL_COST * calls:
            return list(blocks.values())
        return [ks]

    def _seg_matrices(self, L, model):
        """Per read segment, the noise-variance matrix ``A`` (``A @ x`` in sigma**2 units)."""
        key = (L.lo, model)
        if key not in self._noise_cache and L.sparse is not None:
            rows_j, cols, vals = L.w
            a = np.full(len(vals), float(self.unit) ** 2) if model == "absolute" else vals ** 2
            self._noise_cache[key] = [_csr((rows_j, cols, a), (L.n, L.p - L.q), self.dtype,
                                           self.device)]
        if key not in self._noise_cache:
            mats = []
            for w in L.seg_w:
                a = (w != 0).to(self.dtype) if model == "absolute" else w * w
                if model == "absolute" and self.unit != 1:
                    a = a * float(self.unit) ** 2
                mats.append(a.contiguous())
            self._noise_cache[key] = mats
        return self._noise_cache[key]

    @property
    def neurons(self):
        return len(self.netlist.neurons)

    # -- running -----------------------------------------------------------------------
    def run(self, inputs: dict, *, batch=None, physics: Physics | None = None, instances=1,
            seed=0, **conditions):
        """Bus name -> integer array in; bus name -> numpy uint64 array out.

        ``physics`` (or its fields as keywords: ``sigma=0.1, mode="temporal"``...) selects
        the non-idealities; the default is the ideal threshold logic of the RTL.
        """
        return self.simulate(inputs, batch=batch, physics=physics, instances=instances,
                             seed=seed, **conditions).outputs

    def simulate(self, inputs: dict, *, batch=None, physics: Physics | None = None,
                 instances=1, seed=0, activity=False, threads=None,
                 **conditions) -> EngineResult:
        """Like :meth:`run`, returning an :class:`EngineResult` (with activity counters).

        On a CPU, gate-mode chunks run on ``threads`` Python threads (default: torch's
        thread count), each op single-threaded; temporal mode runs its lock-stepped
        streams in one job. Threshold offsets come from a generator seeded with ``seed``,
        and every chunk draws its noise from its own generator seeded from ``seed`` and
        the chunk's index, so results do not depend on the thread count or scheduling
        (they do depend on the device, ``batch`` and ``instances``).
        """
        if conditions:
            if physics is not None:
                raise TypeError("give physics=Physics(...) or its fields as keywords, not both")
            physics = Physics(**conditions)
        physics = IDEAL if physics is None else physics
        if not isinstance(physics, Physics):
            raise TypeError(f"physics must be a Physics, not {physics!r}")
        if isinstance(instances, bool) or not isinstance(instances, int) or instances < 1:
            raise ValueError(f"instances must be a positive int, not {instances!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, not {seed!r}")
        unknown = sorted(set(physics.faults) - set(self.neuron_row))
        if unknown:
            raise ValueError(f"stuck-at fault on unknown neuron(s) {unknown[:3]}: name neurons "
                             f"of {self.netlist.name!r} (see its netlist.json)")
        missing = set(self.netlist.inputs) - set(inputs)
        if missing:
            raise ValueError(f"missing input buses {sorted(missing)}: give a value array for "
                             f"every input of {self.netlist.name!r}")
        arrays = {k: np.asarray(inputs[k]).reshape(-1) for k in self.netlist.inputs}
        lengths = {k: len(v) for k, v in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"input buses have different lengths {lengths}: give one value "
                             f"per vector on every bus")
        count = next(iter(lengths.values()), 0)
        cols = {k: torch.from_numpy(np.ascontiguousarray(v.astype(np.uint64)).view(np.int64))
                .to(self.device) for k, v in arrays.items()}
        master = torch.Generator(device=self.device)
        master.manual_seed(seed)
        delta = self._deltas(physics, instances, master)     # drawn once per chip
        faults = self._fault_rows(physics)
        if physics.sigma:
            for L in self.levels:
                self._seg_matrices(L, physics.noise)
        if physics.mode == "temporal":
            # streams advance in lock step, one small product per level and step: Python
            # threads would only contend for the interpreter, so one job runs them all
            jobs = [range(count)]
            work = lambda k, idx: self._temporal(cols, idx, physics, instances, delta,  # noqa: E731
                                                 faults, self._job_gen(seed, k), activity)
        else:
            if batch is None:
                kind = self.device.type
                per_col = self.rows * torch.finfo(self.dtype).bits // 8
                batch = min(DEFAULT_BATCH[kind], max(256, STATE_BUDGET[kind] // per_col))
            batch = max(instances, batch - batch % instances)   # chunks hold whole rounds
            jobs = [range(a, min(a + batch, count)) for a in range(0, count, batch)]
            work = lambda k, idx: self._gate(cols, idx, physics, instances, delta,  # noqa: E731
                                             faults, self._job_gen(seed, k), activity)
        results = self._run_jobs(work, jobs, threads)
        outputs = {}                                   # jobs cover 0..count-1 in order
        for bus in self.netlist.outputs:
            parts = [bits[bus] for bits, _ in results]
            full = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.int64)
            outputs[bus] = full.cpu().numpy().view(np.uint64)
        result = EngineResult(outputs, count, count * self.neurons, physics=physics.describe())
        if activity:
            counts = sum(c for _, c in results) if results else torch.zeros(self.rows,
                                                                            dtype=torch.float64)
            _finish_activity(self, counts, result)
        return result

    def _job_gen(self, seed, k):
        g = torch.Generator(device=self.device)
        g.manual_seed((seed * 1_000_003 + 7919 * (k + 1)) % (1 << 62))
        return g

    def _run_jobs(self, work, jobs, threads):
        if self.device.type != "cpu":
            return [work(k, idx) for k, idx in enumerate(jobs)]
        threads = min(threads or torch.get_num_threads(), len(jobs))
        with _cpu_threads(1):
            if threads <= 1:
                return [work(k, idx) for k, idx in enumerate(jobs)]
            with ThreadPoolExecutor(threads) as pool:
                return list(pool.map(lambda a: work(*a), enumerate(jobs)))

    def _gate(self, cols, idx, physics, instances, delta, faults, gen, activity):
        state = self._state(cols, idx)
        if not physics.random:
            self._ideal_levels(state, faults)        # exact logic, stuck-at faults applied
        else:
            # chunks start at multiples of `instances`: column j runs on chip j % instances
            self._noisy_levels(state, physics, delta, instances, gen, faults)
        counts = state.sum(1, dtype=torch.float64).cpu() if activity else None
        bits = {bus: self._pack(bus, state.index_select(0, rows))
                for bus, rows in self.output_rows.items()}
        return bits, counts

    # -- pieces ------------------------------------------------------------------------
    def _state(self, cols, idx):
        """State matrix for the vectors ``idx`` (a range): constants and input bits set."""
        a, n = idx.start, len(idx)
        state = torch.empty((self.rows, n), dtype=self.dtype, device=self.device)
        state[0].zero_()
        state[1].fill_(1)
        for bus, (r0, width) in self.input_rows.items():
            v = cols[bus][a:a + n]
            shifts = torch.arange(width, device=self.device).unsqueeze(1)
            state[r0:r0 + width] = (v.unsqueeze(0) >> shifts) & 1
        return state

    def _drive(self, L, state, bias, out=None):
        """``w @ x + bias`` for one level, one product per read segment."""
        if L.sparse is not None:
            x = state[L.q:L.p]
            return torch.addmm(bias, L.sparse, x, out=out) if out is not None else \
                torch.addmm(bias, L.sparse, x)
        (a, b), *rest = L.segs
        out = torch.addmm(bias, L.seg_w[0], state[a:b], out=out) if out is not None else \
            torch.addmm(bias, L.seg_w[0], state[a:b])
        for (a, b), w in zip(rest, L.seg_w[1:]):
            out.addmm_(w, state[a:b])
        return out

    def _add_noise(self, v, L, state, physics, gen):
        """Synaptic noise of this evaluation: one Gaussian per neuron, summed variance."""
        mats = self._seg_matrices(L, physics.noise)
        var = None
        for (a, b), m in zip(L.segs, mats):
            if m.layout == torch.sparse_csr:
                var = torch.sparse.mm(m, state[a:b])
            else:
                var = m @ state[a:b] if var is None else var.addmm_(m, state[a:b])
        noise = torch.randn(v.shape, generator=gen, device=self.device, dtype=self.dtype)
        v.addcmul_(noise, var.sqrt_(), value=physics.sigma)

    def _ideal_levels(self, state, faults=None):
        for li, L in enumerate(self.levels):
            out = self._drive(L, state, L.fast_c, out=state[L.lo:L.hi])
            out.clamp_(0, 1)
            for j, value in (faults or {}).get(li, ()):
                out[j].fill_(value)

    def _fault_rows(self, physics):
        by_level = {}
        for name, value in physics.faults.items():
            r = self.neuron_row[name]
            for li, L in enumerate(self.levels):
                if L.lo <= r < L.hi:
                    by_level.setdefault(li, []).append((r - L.lo, float(value)))
        return by_level

    def _deltas(self, physics, instances, gen):
        """Per level, the threshold offsets (n_neurons x instances), or None."""
        if physics.delta == 0:
            return [None] * len(self.levels)
        out = []
        for L in self.levels:
            z = torch.randn((L.n, instances), generator=gen, device=self.device, dtype=self.dtype)
            scale = physics.delta * self.unit
            if physics.noise == "relative":
                scale = physics.delta * torch.tensor(L.theta, dtype=self.dtype,
                                                     device=self.device).unsqueeze(1)
            out.append(z * scale)
        return out

    def _noisy_levels(self, state, physics, delta, instances, gen, faults):
        n = state.shape[1]
        for li, L in enumerate(self.levels):
            out = self._drive(L, state, L.gate_c, out=state[L.lo:L.hi])
            if physics.sigma:
                self._add_noise(out, L, state, physics, gen)
            if delta[li] is not None:       # chunks start at multiples of `instances`
                d = delta[li]
                if n % instances == 0:
                    out.view(L.n, n // instances, instances).sub_(d.unsqueeze(1))
                else:
                    out.sub_(d[:, torch.arange(n, device=self.device) % instances])
            out.copy_(out >= 0)
            for j, value in faults.get(li, ()):
                out[j].fill_(value)

    def _temporal(self, cols, idx, physics, streams, delta, faults, gen, activity):
        """All streams in lock step: step t evaluates vectors t*streams .. t*streams+S-1."""
        dev, dt = self.device, self.dtype
        w = min(streams, len(idx))
        thetas = []
        for li, L in enumerate(self.levels):
            theta = L.theta_t.expand(L.n, w)
            if delta[li] is not None:
                theta = theta + delta[li][:, :w]
            thetas.append(theta.contiguous())
        mem = [torch.zeros((L.n, w), dtype=dt, device=dev) for L in self.levels]
        beta, shift = physics.beta, physics.leak_shift
        parts = {bus: [] for bus in self.netlist.outputs}
        counts = torch.zeros(self.rows, dtype=torch.float64) if activity else None
        for start in range(0, len(idx), w):
            step = idx[start:start + w]
            n = len(step)
            state = self._state(cols, step)
            for li, L in enumerate(self.levels):
                theta = thetas[li][:, :n]
                v = mem[li][:, :n]
                if shift is not None:
                    v -= torch.floor(v * (0.5 ** shift))
                elif beta is not None and beta != 1:
                    v *= beta
                v += self._drive(L, state, L.bias_t)
                if physics.sigma:
                    self._add_noise(v, L, state, physics, gen)
                fire = v >= theta
                if physics.reset == "soft":
                    v.sub_(theta * fire)
                else:
                    v.masked_fill_(fire, 0)
                v.clamp_(min=physics.floor)
                out = state[L.lo:L.hi]
                out.copy_(fire)
                for j, value in faults.get(li, ()):
                    out[j].fill_(value)
            if activity:
                counts += state.sum(1, dtype=torch.float64).cpu()
            for bus, rows in self.output_rows.items():
                parts[bus].append(self._pack(bus, state.index_select(0, rows)))
        bits = {bus: (torch.cat(p) if p else torch.zeros(0, dtype=torch.int64, device=dev))
                for bus, p in parts.items()}
        return bits, counts

    def _pack(self, bus, bits):
        pow2 = self._pow2.get(bus)
        if pow2 is not None:
            return (pow2 @ bits).squeeze(0).to(torch.int64)
        shifts = torch.arange(bits.shape[0], device=self.device).unsqueeze(1)
        return (bits.to(torch.int64) << shifts).sum(0)


@contextmanager
def _cpu_threads(n):
    old = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _finish_activity(engine, counts, result):
    """Per-row spike counts -> the result's counters (events and charge via fan-out)."""
    c = counts.clone()
    c[:2] = 0                                     # constants are bias, not spikes
    index = {n.name: k for k, n in enumerate(engine.netlist.neurons)}
    spikes = np.zeros(len(engine.netlist.neurons))
    for name, r in engine.neuron_row.items():
        spikes[index[name]] = c[r].item()
    result.neuron_spikes = spikes
    result.input_spikes = int(c[2:2 + engine.n_input_rows].sum().item())
    result.synaptic_events = int((c * engine._fanout).sum().item())
    result.synaptic_charge = float((c * engine._charge).sum().item()) / engine.unit
