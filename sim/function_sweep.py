"""Every input of an FP32 function unit against the exact value: faithful for all, and how
many are correctly rounded.

The FP32 functions (:mod:`spikegate.gen.float32_function`) promise a *faithful* result (one
of the two floats around the exact value) and are correctly rounded for all but a few
inputs, so a sweep classifies rather than compares. For each chunk of input codes, on the
device where the engine runs:

* the unit's outputs (:class:`~.fast_engine.FastEngine`, Triton on CUDA, C on the CPU);
* the exact value's bracket from float64 (torch's float64 function: an error of about
  ``2^-52``, trusted to ``2^-40``): ``cr`` its rounding to fp32, ``alt`` the neighbour of
  ``cr`` on the side of the value. An input whose float64 value lies within ``2^-40`` of an
  fp32 value or of a midpoint is *hard*: it goes to the CPU, where the exact golden
  (:func:`~spikegate.golden.functions.function_code`, mpmath in Ziv's loop, and
  :func:`~spikegate.golden.functions.faithful_alternative`) decides it;
* the tails where float64 says nothing useful, decided exactly on the device (per
  function in :data:`SWEEP_FUNCTIONS`: ``exp`` of ``|x| < 2^-30`` rounds to 1, beyond
  ``[-104, 89]`` to ``+0`` or infinity; sigmoid and SiLU likewise; NaN, zeros and
  infinities from the special-value table).

Each output is then *correctly rounded* (``== cr``), *faithful* (``== alt``) or *wrong*
(anything else: the sweep fails and names the first inputs in hex); for a unit that
promises correct rounding (meta ``rounding``: ``correct``, FP32 rsqrt) a faithful output is
wrong too. ``exceptions=True`` also lists the inputs that are only faithful (the hard cases
of :data:`~spikegate.gen.float32_rsqrt.RSQRT32_HARD` were found so). Finished ranges are
recorded in ``DIR/exhaustive.json`` as :func:`~.exhaustive.record_sweep` does, so a sweep
longer than one GPU lease resumes by range and the record says what is proved so far.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .fast_engine import FastEngine, SweepFigures

__all__ = ["FunctionSweepResult", "function_sweep", "device_bracket", "faithful_outputs",
           "is_fp32_function", "SWEEP_FUNCTIONS"]

#: float64 trusted to this relative error (torch's float64 exp: about 2^-52; sigmoid and
#: SiLU compose a few such operations)
TRUST = 2.0 ** -40
#: lanes per chunk
CHUNK = {"cuda": 1 << 25, "cpu": 1 << 20}
KEEP = 16
F32_NAN = 0x7FC00000
F32_INF = 0x7F800000
F32_ONE = 0x3F800000


def _code(t):
    """fp32 tensor -> its codes as int64."""
    return t.view(torch.int32).to(torch.int64) & 0xFFFFFFFF


def _limit(x, cr, alt, mask, code, toward):
    """Inputs in ``mask`` round to ``code``; the other faithful result is the code one step
    ``toward`` (+1/-1) from it, except at an infinite input, whose limit is exact."""
    cr = torch.where(mask, code, cr)
    alt = torch.where(mask, torch.where(torch.isinf(x), code, code + toward), alt)
    return cr, alt


def _finish(x, cr, alt, *masks):
    """``(mask, cr, alt)`` with NaN inputs giving the canonical NaN."""
    nan = torch.isnan(x)
    mask = nan
    for m in masks:
        mask = mask | m
    return mask, torch.where(nan, F32_NAN, cr), torch.where(nan, F32_NAN, alt)


def _exp_tails(x, bits):
    """``(mask, cr, alt)`` of the inputs decided without float64: ``|x| < 2^-30`` rounds to 1
    (the neighbour on ``x``'s side the other), beyond ``[-104, 89]`` to ``+0`` or infinity."""
    tiny = x.abs() < 2.0 ** -30
    cr = torch.full_like(bits, F32_ONE)
    alt = torch.where(x > 0, F32_ONE + 1, torch.where(x < 0, F32_ONE - 1, F32_ONE))
    low, high = x < -104.0, x > 89.0
    cr, alt = _limit(x, cr, alt, low, 0, 1)
    cr, alt = _limit(x, cr, alt, high, F32_INF, -1)
    return _finish(x, cr, alt, tiny, low, high)


def _sigmoid_tails(x, bits):
    """``x > 20``: 1 (``e^-20 < 2^-25``); ``x < -104``: +0 (``e^-104 < 2^-150``); ``|x| <
    2^-30``: 1/2 (``|x|/4`` below half an ULP), the neighbour on ``x``'s side the other."""
    half = 0x3F000000
    tiny = x.abs() < 2.0 ** -30
    cr = torch.full_like(bits, half)
    alt = torch.where(x > 0, half + 1, torch.where(x < 0, half - 1, half))
    low, high = x < -104.0, x > 20.0
    cr, alt = _limit(x, cr, alt, low, 0, 1)
    cr, alt = _limit(x, cr, alt, high, F32_ONE, -1)
    return _finish(x, cr, alt, tiny, low, high)


def _half_x_tails(x, bits, low_at, high_at):
    """``x f(x)`` with ``f(0) = 1/2``, ``f(x) - 1/2`` of ``x``'s sign (SiLU, GELU): ``x >
    high_at``: ``x`` (``x (1 - f)`` below half an ULP), one ULP less the other; ``x <
    low_at``: -0 (``|x f(x)| < 2^-150``); ``|x| < 2^-30``: ``x/2 + O(x^2)`` rounded: ``x/2``
    when it is an fp32 value (the neighbour above the other), else the midpoint's upper
    neighbour."""
    u = bits.to(torch.int64) & 0xFFFFFFFF
    low, high = x < low_at, x > high_at
    tiny = x.abs() < 2.0 ** -30
    h = x / 2                                        # exact in float64
    c = h.float()
    up = torch.nextafter(c, torch.full_like(c, float("inf")))
    dn = torch.nextafter(c, torch.full_like(c, float("-inf")))
    exact = c.double() == h
    above = c.double() > h
    cr = torch.where(exact | above, _code(c), _code(up))
    alt = torch.where(exact, _code(up), torch.where(above, _code(dn), _code(c)))
    zero = x == 0
    cr, alt = torch.where(zero, u, cr), torch.where(zero, u, alt)
    cr, alt = _limit(x, cr, alt, high, u, -1)
    cr, alt = _limit(x, cr, alt, low, 0x80000000, 1)
    return _finish(x, cr, alt, tiny, low, high)


def _silu_tails(x, bits):
    """``x > 20``: ``e^-20 x`` below half an ULP; ``x < -120``: ``|x| e^x < 2^-150``."""
    return _half_x_tails(x, bits, -120.0, 20.0)


def _gelu_tails(x, bits):
    """``x > 8``: ``x Q(8) < 2^-50 x``; ``x < -16``: ``|x| Q(16) < 2^-180``."""
    return _half_x_tails(x, bits, -16.0, 8.0)


def _tanh_tails(x, bits):
    """``|x| < 2^-12``: ``x`` (``|x|^3/3`` below half an ULP of ``x``), one ULP toward zero
    the other (``+-0``: itself); ``|x| > 10``: ``+-1`` (``2 e^-20 < 2^-25``)."""
    u = bits.to(torch.int64) & 0xFFFFFFFF
    tiny = x.abs() < 2.0 ** -12
    sign = u & 0x80000000
    cr = u
    alt = torch.where(x == 0, u, u - 1)              # magnitude one code less
    high = x.abs() > 10.0
    cr, alt = _limit(x, cr, alt, high, sign | F32_ONE, -1)
    return _finish(x, cr, alt, tiny, high)


def _rsqrt_tails(x, bits):
    """The special values: ``x < 0`` NaN, ``+-0`` ``+-inf``, ``+inf`` ``+0`` (all exact)."""
    u = bits.to(torch.int64) & 0xFFFFFFFF
    neg, zero, inf = x < 0, x == 0, torch.isposinf(x)
    cr = torch.where(neg, F32_NAN, torch.where(zero, (u & 0x80000000) | F32_INF, 0))
    return _finish(x, cr, cr, neg, zero, inf)


#: function -> its tails (the float64 forms: :data:`~spikegate.golden.functions.FLOAT64_FORMS`)
SWEEP_FUNCTIONS = {"exp": _exp_tails, "sigmoid": _sigmoid_tails, "silu": _silu_tails,
                   "tanh": _tanh_tails, "gelu": _gelu_tails, "rsqrt": _rsqrt_tails}


def device_bracket(name, codes):
    """``(cr, alt, hard)`` for int64 fp32 codes (a tensor on any device)."""
    if name not in SWEEP_FUNCTIONS:
        raise ValueError(f"no FP32 sweep for {name!r}: choose one of "
                         f"{', '.join(SWEEP_FUNCTIONS)}")
    from ..golden.functions import FLOAT64_FORMS
    tails = SWEEP_FUNCTIONS[name]
    bits = codes.to(torch.int32)
    x = bits.view(torch.float32).double()
    with torch.no_grad():
        v = FLOAT64_FORMS[name](x, torch)
    c = v.float()
    c64 = c.double()
    toward = torch.where(v > c64, torch.tensor(float("inf"), device=v.device),
                         torch.tensor(float("-inf"), device=v.device)).float()
    nb = torch.nextafter(c, toward)
    big = 2.0 ** 128
    c_fin = torch.where(torch.isinf(c64), torch.copysign(torch.tensor(big, device=v.device), c64),
                        c64)
    nb64 = nb.double()
    nb_fin = torch.where(torch.isinf(nb64), torch.copysign(torch.tensor(big, device=v.device),
                                                           nb64), nb64)
    margin = v.abs() * TRUST
    hard = ((v - c_fin).abs() <= margin) | ((v - (c_fin + nb_fin) / 2).abs() <= margin)
    cr = c.view(torch.int32).to(torch.int64) & 0xFFFFFFFF
    alt = nb.view(torch.int32).to(torch.int64) & 0xFFFFFFFF
    mask, tcr, talt = tails(x, bits)
    cr = torch.where(mask, tcr, cr)
    alt = torch.where(mask, talt, alt)
    hard = hard & ~mask
    return cr, alt, hard


@dataclass
class FunctionSweepResult(SweepFigures):
    """Counts of one sweep over ``[start, stop)``: ``correct`` correctly rounded, ``faithful``
    the other faithful result, ``wrong`` neither (``first``: up to 16 as ``(inputs, got,
    correctly rounded)`` dicts), ``hard`` decided by the exact golden on the CPU."""

    netlist: str
    start: int
    stop: int
    correct: int = 0
    faithful: int = 0
    wrong: int = 0
    hard: int = 0
    first: list = field(default_factory=list)
    #: the inputs with a faithful, not correctly rounded output (``exceptions=True``)
    exceptions: list = field(default_factory=list)
    seconds: float = 0.0
    device: str = "cpu"

    @property
    def total(self):
        return self.stop - self.start

    @property
    def count(self):                       # failures, as ExhaustiveResult
        return self.wrong

    def describe(self):
        return self.with_mismatches(
            f"{self.netlist}: [{self.start:#x}, {self.stop:#x}) {self.total:,} inputs: "
            f"{self.correct:,} correctly rounded, {self.faithful:,} faithful, "
            f"{self.wrong:,} wrong ({self.hard:,} decided by mpmath; {self.device}, "
            f"{self.seconds:.1f} s)")


def is_fp32_function(netlist) -> bool:
    """Whether ``netlist`` is an FP32 function unit, which a sweep classifies (its meta
    ``rounding`` says what it promises: ``faithful`` or ``correct``)."""
    return (netlist.meta.get("format") == "fp32" and netlist.meta.get("rounding") in
            ("faithful", "correct") and netlist.meta.get("unit") in SWEEP_FUNCTIONS)


def _resolve(name, codes):
    from ..golden.functions import faithful_alternative, golden_function
    cr = golden_function(name, "fp32", codes)
    return cr, faithful_alternative(name, "fp32", codes, cr)


def function_sweep(netlist, *, start=0, stop=1 << 32, device=None, chunk=None,
                   progress=None, engine=None, exceptions=False) -> FunctionSweepResult:
    """Classify the outputs of the FP32 function ``netlist`` on inputs ``[start, stop)``
    (``exceptions``: keep the inputs whose output is only faithful)."""
    name = netlist.meta.get("unit")
    if not is_fp32_function(netlist):
        raise ValueError(f"{netlist.name} is not an FP32 function with a sweep: those are "
                         f"{', '.join(SWEEP_FUNCTIONS)} in fp32")
    if not 0 <= start < stop <= 1 << 32:
        raise ValueError(f"need 0 <= start < stop <= 2^32, got {start:#x}..{stop:#x}")
    # a sweep runs millions of inputs: worth a C kernel of any size on the CPU
    eng = engine or FastEngine(netlist, device=device, c_ops=1 << 30)
    dev = eng.device
    step = chunk or CHUNK[dev.type]
    res = FunctionSweepResult(netlist.name, start, stop, device=str(dev))
    strict = netlist.meta.get("rounding") == "correct"
    t0 = time.perf_counter()
    for lo in range(start, stop, step):
        n = min(step, stop - lo)
        codes = torch.arange(lo, lo + n, dtype=torch.int64, device=dev)
        with torch.no_grad():
            if eng.backend == "torch":             # no C kernel for this size on the CPU
                y = eng.run({"a": codes.numpy().astype(np.uint64)})["y"]
                got = torch.from_numpy(y.astype(np.int64))
            else:
                got = eng.run_tensor(codes.reshape(1, -1))[0].to(torch.int64).to(dev)
            got = got & 0xFFFFFFFF
            cr, alt, hard = device_bracket(name, codes)
            idx = torch.nonzero(hard).reshape(-1)
            if idx.numel():
                hc = codes[idx].cpu().numpy().astype(np.uint64)
                rcr, ralt = _resolve(name, hc)
                cr[idx] = torch.from_numpy(rcr.astype(np.int64)).to(dev)
                alt[idx] = torch.from_numpy(ralt.astype(np.int64)).to(dev)
            is_cr = got == cr
            is_alt = (got == alt) & ~is_cr
            if exceptions:
                res.exceptions += codes[is_alt].tolist()
            if strict:
                is_alt = torch.zeros_like(is_cr)
            bad = ~(is_cr | is_alt)
            res.correct += int(is_cr.sum())
            res.faithful += int(is_alt.sum())
            nbad = int(bad.sum())
            res.hard += int(idx.numel())
        if nbad:
            res.wrong += nbad
            for j in torch.nonzero(bad).reshape(-1)[:KEEP - len(res.first)].tolist():
                res.first.append(({"a": int(codes[j])}, {"y": int(got[j])},
                                  {"y": int(cr[j])}))
        if progress:
            progress(lo + n - start, stop - start)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    res.seconds = time.perf_counter() - t0
    return res


def faithful_outputs(netlist, inputs):
    """The unit's outputs on ``inputs`` (the fast engine on the CPU), once every one is
    shown faithful against the exact golden: the expected outputs of its HDL runs. Raises
    :class:`~.check.MismatchError` naming the first unfaithful inputs, with the correctly
    rounded code as the expected one."""
    from ..golden.functions import faithful_alternative, golden_function
    from .check import assert_bit_exact
    meta = netlist.meta
    codes = np.asarray(inputs["a"], dtype=np.uint64)
    # an HDL run's vectors (10^5 at most): gcc's -O0 compiles the kernel in seconds, and its
    # slower code does not matter here (FP32 exp, 20,000 inputs: 2.7 s against 46 s at -O2)
    got = FastEngine(netlist, device="cpu", c_opt="-O0").run({"a": codes})["y"]
    cr = golden_function(meta["unit"], meta["format"], codes, meta.get("out_format"),
                         meta.get("policy", "torch"))
    alt = faithful_alternative(meta["unit"], meta["format"], codes, cr,
                               meta.get("out_format"), meta.get("policy", "torch"))
    expected = np.where(got == alt, alt, cr)
    assert_bit_exact({"a": codes}, {"y": got}, {"y": expected},
                     context=f"{netlist.name} against the exact value: not faithful",
                     widths={"a": 32, "y": 32})
    return {"y": got}
