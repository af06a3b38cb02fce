"""FP32 reciprocal square root from neurons, correctly rounded for every input: range
reduction, a step-function table of cubic coefficients, a truncated fixed-point Horner
evaluation rounded once, and a list of hard cases.

``y = 1/sqrt(a)`` for every fp32 ``a`` (:func:`build_rsqrt32`). The datapath alone is
*faithful*; its significand depends on the fraction of ``a`` and the parity of its exponent
only, so the 2^24 inputs in ``[1, 4)`` hold every case once, and a sweep of them
(:mod:`spikegate.sim.function_sweep`) finds the 50 whose exact value lies nearer a rounding
boundary than the datapath's error. Each is one neuron (:func:`_hard_cases`) that sets or
clears the guard bit, so the one rounding goes to the side the exact value is on.

Datapath
--------
1. **Normalise** (:func:`_normalise`): ``a = m 2^E`` with ``m`` in ``[1, 2)`` (23 fraction
   bits), subnormal significands shifted up by their leading-zero count ``la`` in two
   decoded stages (``la = 4q + r``: a coarse shift by ``4q``, a fine one by ``r``, both
   decoded from the one leading-zero thermometer ``z_k``). The parity ``t = E mod 2`` and
   ``h = (E - t)/2`` are linear in the exponent bits and the ``z_k``: ``a = 2^t m 4^h``,
   ``y = Y 2^-h`` with ``Y = 2^(-t/2) m^(-1/2)`` in ``(1/2, 1]``.
2. **Table** (one :func:`~.fixed_point.step_table` on ``t`` and the top 8 fraction bits,
   its thermometers shared by all bits): ``m`` is cut into blocks of width ``2^-8``; in a
   block, ``d = block end - 2^-23 - m`` (in ``[0, 2^-8)``) is the one's complement of the
   15 bits of ``m`` below the block index, folded into the partial-product neurons
   (``[x - f >= 1]``, no inverters). ``Y`` is a cubic in ``d`` with positive coefficients
   (the derivatives of ``m^(-1/2)`` alternate in sign, so ``-d`` makes every term
   positive): no subtraction anywhere. Each block's coefficients interpolate at Chebyshev
   nodes (near-minimax) at a fixed mpmath precision and are rounded from ``c3`` down, each
   lower one refitted to absorb the rounding above it (with ``split_bits`` above 0 a block
   is halved while its fit is further than ``fit_err`` LSBs from ``Y``; here none is).
3. **Horner** in three truncated heaps (:class:`~.fixed_point.Column`): ``v = c2 + c3 d``,
   ``w = c1 + d v``, ``Y = c0 + d w`` to ``2^-46`` (21 bits below the result's half ULP
   ``2^-25``). A heap is summed by *group counters* (:func:`_count`: five columns at a time
   become the binary digits of their weighted sum, one neuron a digit, so a 16-high heap is
   two rows after one round, half the neurons of column counters) and a block-carry adder
   whose sum bits stay *virtual* (0/1 linear forms, :func:`_form`) for the partial products
   that read them. ``Y < 1`` (:func:`_horner`): the heap of ``Y`` keeps ``Y - 1/2`` and bit
   ``2^-1`` is 1.
4. The hard cases force the guard bit ``2^-25`` (and the sticky bit, to round up); then
   :func:`~.float_round.round_pack` rounds ``Y 2^-h`` once (``-h`` in ``[-63, 75]``: never
   subnormal, never overflowing), ``Y`` below ``2^-27`` jammed into one sticky bit.

Special values (exact): ``+0 -> +inf``, ``-0 -> -inf``, ``+inf -> +0``, any ``a < 0``
(``-inf`` included) and NaN -> the canonical NaN.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath

from ..golden.formats import check_policy, get_format
from .builder import NetlistBuilder
from .fixed_point import Column, Fixed, step_table
from .float_add import unpack_float
from .float_round import or_net, round_pack
from .gates import nor
from .linear_form import Lin
from .netlist import CONST0, CONST1, UNBOUNDED, Bounds, Netlist

__all__ = ["build_rsqrt32", "RSQRT32", "RSQRT32_HARD"]

#: The datapath's parameters: block width ``2^-block_bits``, up to ``split_bits`` halvings
#: of a block, the polynomial's degree, the fit's error target (in LSBs of ``Y``), the
#: exponent ``y_lsb`` of the LSB of ``Y``; the heap of the coefficient ``c_k`` keeps
#: ``2^(y_lsb + k block_bits + offsets[k])`` and up (its term is ``d^k < 2^(-k block_bits)``
#: times it; ``c_degree`` is rounded there too), and the counters' ``group``. The figures
#: trade neurons for the cases left to the exception list (:data:`RSQRT32_HARD`), measured
#: over every significand (:func:`~spikegate.sim.function_sweep.function_sweep` on ``[1,
#: 4)``, 2^24 codes): (block_bits, y_lsb) = (8, -46) is 2,091 neurons and 50 cases; (8, -45)
#: 2,031 and 100; (8, -47) 2,144 and 35; degree 4 on blocks of 2^-7 at -46: 2,150 and 57;
#: the faithful cubic on blocks of 2^-7 at -41 (halved near 1): 1,728 and 1,677.
RSQRT32 = {"block_bits": 8, "split_bits": 0, "degree": 3, "fit_err": 16, "y_lsb": -46,
           "offsets": (0, 1, 2, 2), "group": 5}

#: The inputs in ``[1, 4)`` (one per case ``(t, fraction)``; every other input with that
#: case is a power of 4 away, with the same significand ``Y``) whose ``Y`` lies nearer a
#: rounding boundary than the datapath's error, so that it rounds the wrong way: each is one
#: neuron matching ``(t, fraction)`` that forces the rounding to the correct side (the side
#: is worked out exactly when the unit is built). Found for :data:`RSQRT32` by sweeping the
#: unit built without them over ``[0x3F800000, 0x40800000)``
#: (``function_sweep(..., exceptions=True).exceptions``); ``tests/test_float32_function.py``
#: sweeps every case and finds none left (``make regress``). A change to :data:`RSQRT32`
#: needs a new list.
RSQRT32_HARD = (
    0x3F88C0D3, 0x3F8A5C86, 0x3F8D0E0D, 0x3F9291BD, 0x3F96AEB5, 0x3F9C8B13,
    0x3F9CFD44, 0x3FA06FD4, 0x3FA49C14, 0x3FB028D6, 0x3FB18F7B, 0x3FB7873B,
    0x3FB8CCF1, 0x3FBA18BE, 0x3FBE1A24, 0x3FC1D654, 0x3FC39155, 0x3FD0212E,
    0x3FD2208F, 0x3FD68DE3, 0x3FD7AEA0, 0x3FD897A6, 0x3FDD12B2, 0x3FEB9F27,
    0x3FF28B05, 0x40012A4F, 0x4011297C, 0x4015E036, 0x4016692D, 0x401A0E6D,
    0x401DD16A, 0x40202A78, 0x4020BF32, 0x4021B092, 0x402AA737, 0x402B69FD,
    0x402F8E58, 0x40340D3C, 0x4034D9E1, 0x40355499, 0x403A18E3, 0x404CE453,
    0x4058A629, 0x405E03F5, 0x4064D0E2, 0x40681651, 0x406A2F96, 0x406BA72D,
    0x40759793, 0x407DE1E1,
)

_PREC = 96           # mpmath working precision of the fit (deterministic: fixed)
_GRID = 24           # points per segment where the fit's error is checked
#: ``Y`` is handed to rounding from this bit up, the bits below jammed into one sticky bit
_KEEP = -27
#: the guard bit of ``Y`` in ``[1/2, 1)``: the one below the result's LSB ``2^-24``
_GUARD = -25


def _form(x) -> Lin:
    """A net, or a 0/1-valued linear form (a *virtual bit*), as a form."""
    return x if isinstance(x, Lin) else Lin.net(x)


def _normalise(b, A, nets):
    """``(f, t, h)``: the 23 fraction bits of the normalised significand ``m`` (a Fixed,
    lsb ``2^-23``), the parity ``t`` of ``E = floor(log2 a)`` and ``h = (E - t)/2`` (a Lin).

    ``z_k = [top k significand bits zero]`` is one NOR each; the shift ``la = sum z_k`` is
    taken as ``4q + r``: ``[q == Q] = z_(4Q) - z_(4Q+4)`` and ``[r == R] = sum_Q (z_(4Q+R) -
    z_(4Q+R+1))`` are 0/1 sums read straight by the AND-term neurons (no decoder). The
    terms of a bit are exclusive, so the bit is their plain sum: the fine terms read the
    coarse ones as such, and only the top ``nets`` fraction bits (the table's index) are
    ORed into nets; the others stay virtual bits (:func:`_form`), read by the partial
    products. Zero inputs give garbage: they are overridden.
    """
    sig = A.sig_bits                                   # 24 bits, sig[23] = hidden
    n = len(sig)
    msb = sig[::-1]
    z = [CONST1] + [nor(b, *msb[:k]) for k in range(1, n)] + [CONST0, CONST0, CONST0, CONST0]

    def zz(k):
        return z[k] if k < len(z) else CONST0

    def term(x, pairs, name):                          # [x and (0/1 sum of pairs)]
        return (_form(x) + Lin(pairs)).ge(b, 2, name=name)

    with b.block("coarse"):                            # w = sig << 4q, bits 0 .. n-2
        w = [Lin([(term(sig[i - 4 * Q], [(zz(4 * Q), 1), (zz(4 * Q + 4), -1)], "csel"), 1)
                  for Q in range(i // 4 + 1)]) for i in range(n - 1)]
    with b.block("fine"):                              # f = w << r
        dec = [[(zz(4 * Q + R), 1) for Q in range(6)] + [(zz(4 * Q + R + 1), -1)
                                                         for Q in range(6)] for R in range(4)]
        f = []
        for i in range(n - 1):
            terms = [term(w[i - R], dec[R], "fsel") for R in range(min(i, 3) + 1)]
            f.append(or_net(b, terms, "for") if i >= n - 1 - nets else
                     Lin([(x, 1) for x in terms]))
    with b.block("exponent"):
        # normal: t = 1 - e0; subnormal (e = 0): t = la mod 2 = sum_j z_(2j+1) - z_(2j+2)
        odd = [(z[k], 1 if k % 2 else -1) for k in range(1, n)]
        t = (Lin([(A.hidden, 2), (A.exp[0], -2)] + odd)).ge(b, 1, name="t")
    # normal: h = (e - 128 + e0)/2 = sum_(i>=1) e_i 2^(i-1) + e0 - 64; subnormal:
    # h = -63 - ceil(la/2) = -63 - sum_j z_(2j+1), where z_1 = 1 - hidden
    h = (Lin([(x, 1 << (i - 1)) for i, x in enumerate(A.exp) if i] + [(A.exp[0], 1)])
         - 64 - Lin([(z[k], 1) for k in range(3, n, 2)]))
    return Fixed(tuple(f), -(n - 1)), t, h


def _mpf(x: Fraction):
    return mpmath.mpf(x.numerator) / x.denominator


def _cheb(f, lo, hi, degree):
    """Monomial coefficients (constant first) of the polynomial interpolating ``f`` at the
    ``degree + 1`` Chebyshev nodes of ``[lo, hi]`` (near-minimax), via the discrete cosine
    sums in the variable ``u`` of ``[-1, 1]``."""
    n = degree + 1
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    th = [mpmath.pi * (2 * i + 1) / (2 * n) for i in range(n)]
    fx = [f(mid + half * mpmath.cos(a)) for a in th]
    a = [2 * sum(y * mpmath.cos(k * x) for y, x in zip(fx, th)) / n for k in range(n)]
    a[0] /= 2
    cheb = [[1], [0, 1]]                                   # T_k in u, monomials
    for k in range(2, n):
        cheb.append([2 * c for c in [0] + cheb[-1]])
        for j, c in enumerate(cheb[-3]):
            cheb[-1][j] -= c
    pu = [sum(a[k] * cheb[k][j] for k in range(j, n) if j < len(cheb[k])) for j in range(n)]
    # u = (d - mid) / half: expand sum pu_j ((d - mid)/half)^j into powers of d
    out = [mpmath.mpf(0)] * n
    for j, c in enumerate(pu):
        for i in range(j + 1):
            out[i] += c * mpmath.binomial(j, i) * (-mid) ** (j - i) / half ** j
    return out


def _fit(t, top, d_lo, d_hi, lsbs):
    """Quantised polynomial ``sum c_k d^k ~ 2^(-t/2) (top - d)^(-1/2)`` on ``[d_lo, d_hi]``
    (degree ``len(lsbs) - 1``): ``(coefficient integers, max error on a grid)``. The
    coefficients are rounded from the highest (to ``2^lsbs[k]``) down, the lower ones
    interpolated again each time to absorb that rounding."""
    D = len(lsbs) - 1
    with mpmath.mp.workprec(_PREC):
        lo, hi, top_ = _mpf(d_lo), _mpf(d_hi), _mpf(top)
        scale = mpmath.power(2, -mpmath.mpf(t) / 2)
        fixed = {}                                            # k -> quantised c_k (mpf)

        def rest(d):
            return scale / mpmath.sqrt(top_ - d) - sum(c * d ** j for j, c in fixed.items())

        ints = [0] * (D + 1)
        for k in range(D, -1, -1):
            c = _cheb(rest, lo, hi, k)[k]
            unit = mpmath.ldexp(1, lsbs[k])
            ints[k] = int(mpmath.nint(c / unit))
            fixed[k] = ints[k] * unit
        err = max(abs(rest(lo + (hi - lo) * i / (_GRID - 1))) for i in range(_GRID))
        return ints, float(err / mpmath.ldexp(1, lsbs[0]))


def _lsbs(P):
    """The LSB exponents of ``c_0 .. c_degree``."""
    J, y, off = P["block_bits"], P["y_lsb"], P["offsets"]
    return tuple(y + k * J + (off[k] if k < len(off) else 0) for k in range(P["degree"] + 1))


def _segments(P):
    """The table: per index ``(t, top block_bits + split_bits bits of m's fraction)`` the
    quantised coefficients ``(c0, ..., c_degree)`` of its segment and the fit's error (in
    LSBs of ``Y``); a segment is halved while its fit is further than ``fit_err`` LSBs from
    ``Y`` and ``split_bits`` halvings are left."""
    J, S = P["block_bits"], P["split_bits"]
    lsbs = _lsbs(P)
    ulp = Fraction(1, 1 << 23)
    width = Fraction(1, 1 << J)

    def split(t, top, k, s):                   # sub-segment k of 2^s in its block
        d_hi = width - ulp - k * width / (1 << s)
        d_lo = width - (k + 1) * width / (1 << s)
        fit = _fit(t, top, d_lo, d_hi, lsbs)
        if fit[1] <= float(P["fit_err"]) or s == S:
            return [fit] * (1 << (S - s))
        return split(t, top, 2 * k, s + 1) + split(t, top, 2 * k + 1, s + 1)

    table = []
    for t in (0, 1):
        for blk in range(1 << J):
            table += split(t, 1 + (blk + 1) * width - ulp, 0, 0)   # m = top - d
    return table


def _add_times_d(b, heap, x: Fixed, f: Fixed, *, name="pp"):
    """``x d`` into ``heap``, ``d`` the one's complement of the bits ``f``: one
    ``[x_i - f_j >= 1]`` neuron per bit pair that reaches the cut (``x_i``, ``f_j`` nets or
    virtual bits)."""
    with b.block(name):
        for xi, ex in x.items():
            for fj, ef in f.items():
                if ex + ef < heap.cut:
                    heap.dropped += Fraction(2) ** (ex + ef)
                else:
                    heap.add((_form(xi) - _form(fj)).ge(b, 1, name="andn"), ex + ef)


def _count(b, cols, group, name):
    """One compression round: each run of ``group`` columns becomes the binary digits of
    its weighted sum (constants included), MSB first, one neuron a digit: ``[S - sum of the
    higher digits >= 2^t]``. ``g`` columns of height ``h`` give about ``g + log2 h`` digits,
    so a heap of height 16 is two rows after one round at ``group = 5`` (column counters
    need three rounds and twice the neurons; the price is a chain of about ``g + log2 h``
    levels). Digits past the heap's top are made (the lower ones read them) and dropped:
    every term is non-negative and the caller guarantees the sum fits, so they are 0."""
    W = len(cols)
    new = [[] for _ in range(W)]
    for c0 in range(0, W, group):
        span = range(c0, min(c0 + group, W))
        if max(len(cols[c]) for c in span) <= 1 and all(
                CONST1 not in cols[c] for c in span):
            for c in span:
                new[c] += cols[c]
            continue
        form = Lin([(x, 1 << (c - c0)) for c in span for x in cols[c]])
        hi = form.bounds()[1]
        digits = {}
        for t in reversed(range(hi.bit_length())):
            higher = Lin([(x, -(1 << s)) for s, x in digits.items()])
            digits[t] = (form + higher).ge(b, 1 << t, name=name)
        for t, x in digits.items():
            if c0 + t < W and x != CONST0:
                new[c0 + t].append(x)
    return new


def _add_rows(b, x, y, *, block=8, name="add"):
    """``x + y`` as virtual bits: the carries of :func:`~.float_mul.block_add` (one neuron
    a bit, from the block's carry-in), each sum bit left as its 0/1 form ``x_k + y_k + c_k
    - 2 c_(k+1)`` (the caller knows the sum fits), a neuron only where a reader needs one."""
    W = len(x)
    carry = [CONST0] * (W + 1)
    for k in range(1, W):
        k0 = ((k - 1) // block) * block
        pairs = [(x[j], 1 << (j - k0)) for j in range(k0, k)]
        pairs += [(y[j], 1 << (j - k0)) for j in range(k0, k)] + [(carry[k0], 1)]
        carry[k] = b.neuron(pairs, threshold=1 << (k - k0), name=f"{name}_c")
    return tuple(Lin([(x[k], 1), (y[k], 1), (carry[k], 1), (carry[k + 1], -2)])
                 for k in range(W))


def _reduce(b, heap: Column, *, name, group=5) -> Fixed:
    """:meth:`Column.reduce` (the same rounding of the cut and error bound) by group
    counters (:func:`_count`) until two rows are left, then :func:`_add_rows`: the sum as
    virtual bits."""
    cols = heap.columns()
    with b.block(name):
        while max(len(c) for c in cols) > 2:
            cols = _count(b, cols, group, "cnt")
        rows = [[c[i] if i < len(c) else CONST0 for c in cols] for i in range(2)]
        return Fixed(_add_rows(b, rows[0], rows[1], name="add"), heap.cut)


def _top(bound: Fraction):
    """The smallest ``top`` with ``bound < 2^(top + 1)``."""
    top = -64
    while Fraction(2) ** (top + 1) <= bound:
        top += 1
    return top


def _dropped(x_lsb, x_msb, d: Fixed, cut):
    """The most the bit pairs of ``x d`` below ``cut`` could add (as :func:`_add_times_d`
    counts them)."""
    return sum((Fraction(2) ** (ex + ef) for ex in range(x_lsb, x_msb + 1)
                for _, ef in d.items() if ex + ef < cut), Fraction(0))


def _horner(b, f: Fixed, t, P):
    """``Y - 1/2`` (a Fixed, lsb ``y_lsb``, bits up to ``2^-2``) for ``Y ~ 2^(-t/2)
    m^(-1/2)``, from the table and ``degree`` heaps.

    ``Y`` is always in ``[1/2, 1)``, so the heap of ``Y`` keeps ``Y - 1/2`` (``c0`` is
    tabulated less 1/2) and bit ``2^-1`` is the constant 1: for ``m > 1`` the exact ``Y``
    is at least ``2^-24`` from either end, far more than the error bound (checked here),
    and the table entry of ``m = 1`` (exactly 1) is lowered by its fit error plus the
    heaps' error bound, worked out from the bus shapes beforehand and checked against the
    heaps' own bound after. That bound and the fit error, below ``2^-26`` together, are
    what make every result faithful (an error below the half ULP ``2^-25``)."""
    J, S, D = P["block_bits"], P["split_bits"], P["degree"]
    lsbs = _lsbs(P)
    unit = Fraction(2) ** lsbs[0]
    half = 1 << -1 - lsbs[0]
    segs = _segments(P)
    table = [[row[0] - half] + row[1:] for row, _ in segs]          # c0 - 1/2 >= 0
    widths = [max(row[k] for row in table).bit_length() for k in range(D + 1)]
    d = f.slice(f.lsb, -J - 1)
    dmax = Fraction(1, 1 << J)
    cmax = [max(row[k] for row in table) * Fraction(2) ** lsbs[k] for k in range(D + 1)]
    tops, bound, plan = {}, cmax[D], Fraction(0)
    x_lsb, x_msb = lsbs[D], lsbs[D] + widths[D] - 1
    for k in range(D - 1, -1, -1):                 # the heaps' tops and error bounds
        bound = cmax[k] + dmax * bound + Fraction(2) ** (lsbs[k] + 8)
        tops[k] = -2 if k == 0 else _top(bound)
        plan = plan * dmax + _dropped(x_lsb, x_msb, d, lsbs[k]) / 2 + Fraction(2) ** lsbs[k] / 2
        x_lsb, x_msb = lsbs[k], tops[k]
    worst = max(e for _, e in segs) * float(unit) + float(plan)
    if worst >= 2.0 ** -26:
        raise ValueError(f"the datapath's error bound {worst:.3g} is not below 2^-26")
    margin = int(plan / unit) + int(segs[0][1]) + 2                 # units of y_lsb
    table[0][0] -= margin
    shift = [0]
    for k in range(D + 1):
        shift.append(shift[-1] + widths[k])
    packed = [sum(row[k] << shift[k] for k in range(D + 1)) for row in table]
    index = f.slice(-(J + S), -1).bits + (t,)
    with b.block("table"):
        bits = step_table(b, index, packed, shift[-1])
    c = [Fixed(tuple(bits[shift[k]:shift[k + 1]]), lsbs[k]) for k in range(D + 1)]
    x, err = c[D], Fraction(0)
    for k in range(D - 1, -1, -1):
        with b.block(f"h{k}"):
            heap = Column(lsbs[k], tops[k])
            heap.add_fixed(c[k])
            _add_times_d(b, heap, x, d)
            x = _reduce(b, heap, name=f"h{k}", group=P["group"])
        err = err * dmax + heap.error
    if err > plan:
        raise ValueError("the heaps' error bound passes the one planned")
    return x


def _hard_cases(b, f: Fixed, t, codes):
    """``(up, down)``: per input code in ``[1, 4)`` of ``codes`` one neuron firing on its
    case ``[t, fraction == the code's]``, in ``up`` when the correctly rounded result lies
    above the exact value (rounded up), else in ``down``: decided exactly (a rational
    comparison of the golden's result with ``1/sqrt a``)."""
    from ..golden.float_ref import decode
    from ..golden.functions import function_code
    fp32 = get_format("fp32")
    up, down = [], []
    for code in codes:
        if not 0x3F800000 <= code < 0x40800000:
            raise ValueError(f"hard case {code:#010x} is not an fp32 input in [1, 4)")
        frac, tc = code & 0x7FFFFF, 1 - ((code >> 23) & 1)         # t = (exponent - 127) mod 2
        pattern = [(x, 1 if frac >> i & 1 else -1) for i, x in enumerate(f.bits)]
        form = sum((_form(x) * w for x, w in pattern), Lin()) + Lin([(t, 1 if tc else -1)])
        match = form.ge(b, bin(frac).count("1") + tc, name=f"hard_{code:08x}")
        _, _, m, e = decode(fp32, code)
        _, _, mc, ec = decode(fp32, function_code("rsqrt", fp32, code))
        above = Fraction(mc) ** 2 * Fraction(2) ** (2 * ec) * m * Fraction(2) ** e > 1
        (up if above else down).append(match)
    return up, down


def build_rsqrt32(fmt="fp32", *, policy="torch", bounds: Bounds = UNBOUNDED,
                  hard=None) -> Netlist:
    """``y = 1/sqrt(a)`` in fp32, correctly rounded for every input (port ``a`` -> ``y``).

    ``hard``: the hard cases (input codes in ``[1, 4)``) in place of :data:`RSQRT32_HARD`,
    e.g. ``()`` for the datapath alone, which is faithful (meta ``rounding``: ``correct``
    only with the committed list)."""
    fmt = get_format(fmt)
    if fmt.name != "fp32":
        raise ValueError(f"build_rsqrt32 builds fp32 only, not {fmt.name}")
    policy = check_policy(policy)
    P = RSQRT32
    b = NetlistBuilder(f"rsqrt_{fmt.name}_{policy}", bounds=bounds)
    with b.block("unpack"):
        A = unpack_float(b, fmt, b.input("a", fmt.width))
        neg = b.neuron([(A.sign, 1), (A.zero, -1)], threshold=1, name="neg")   # a < 0
        pinf = b.neuron([(A.inf, 1), (A.sign, -1)], threshold=1, name="pinf")  # a = +inf
    with b.block("normalise"):
        f, t, h = _normalise(b, A, P["block_bits"] + P["split_bits"])
    with b.block("poly"):
        Y = _horner(b, f, t, P)
    with b.block("hard"):
        up, down = _hard_cases(b, f, t, RSQRT32_HARD if hard is None else hard)
    with b.block("sticky"):                    # Y in [1/2, 1): bits _KEEP .. -2, then 1
        low = Y.slice(Y.lsb, _KEEP - 1).bits             # virtual bits: their OR is their sum
        forced = Lin([(x, 1) for x in up])
        sticky = (sum(low, Lin()) + forced).ge(b, 1, name="sticky")
        bits = list(Y.slice(_KEEP, -2).bits)
        # a hard case's guard bit (2^-25, below the result's LSB) is set, with the sticky
        # bit, to round up, or cleared to round down (it was set: Y rounded up)
        bits[_GUARD - _KEEP] = bits[_GUARD - _KEEP] + forced - Lin([(x, 1) for x in down])
        sig = (sticky,) + tuple(x.ge(b, 1, name="y") for x in bits)
    sig += (CONST1,)
    # y = Y 2^-h = sig 2^(_KEEP - 1 - h), in units of 2^quantum_exp; h in [-75, 63]
    shift = _KEEP - 1 - fmt.quantum_exp
    y = round_pack(b, fmt, policy, sig=sig, scale=shift - h,
                   scale_range=(shift - 63, shift + 75), sign=(Lin.net(A.sign), 1),
                   msb_min=len(sig) - 1, nan=[A.nan, neg], inf=[A.zero], zero=[pinf])
    b.output("y", y)
    b.meta.update(unit="rsqrt", format=fmt.name, out_format=fmt.name, to=fmt.name,
                  policy=policy, method="range-reduction",
                  rounding="correct" if hard is None else "faithful")
    return b.build()
