"""FP8 dot products and linear layers as neuron netlists.

Accumulation modes (:data:`~spikegate.golden.dot.ACCUM_MODES`):

``exact``
    Every product ``x_i * w_i`` is exact and lands in a two's complement fixed-point
    (Kulisch) accumulator wide enough that no addition ever rounds; the sum is rounded once
    into the output format. Per product:

    * the significand product minus the sign, ``D = Mx*Mw - s``, is one
      :meth:`~.linear_form.Lin.bits` block (the AND partial products read raw bits), and the
      signed product ``Q = s ? -(Mx*Mw) : Mx*Mw`` is ``D xor s`` (``-P = ~(P - 1)``), two
      neurons per bit;
    * the exponent ``e = Ex + Ew - 2`` (binary, two levels) splits into ``e = 8*h + l``, both
      decoded one-hot; a first shifter moves ``Q`` by ``l`` inside a 16-bit window
      (sign-extended), a second places the window at digit ``h`` of the accumulator: one
      two-input AND per (shift, bit) and (digit, bit), one OR per window bit and per
      accumulator column;
    * all windows, the bias and the constant corrections form one :class:`~.heap.BitHeap`,
      reduced by threshold full adders in Dadda order (``O(log N)`` stages) and a
      parallel-prefix adder;
    * sign and magnitude (one conditional negation), then
      :func:`~.float_round.round_fixed` rounds once (RNE, overflow policy for FP8 outputs).

    NaN / infinity / ``-0`` rules are those of :mod:`spikegate.golden.dot`.

``fp32``, ``fp16``, ``fp8``
    Each product is rounded to the accumulator format and each addition rounds, in a
    pairwise ``tree`` order or ``sequential`` order (see :func:`tree_pairs`), exactly as
    :mod:`spikegate.golden.torch_dot` does it with torch.

Weights are either constants baked into the netlist (constant folding then removes part of
the multiplier) or input ports ``w0 .. w{N-1}``, which is what the time-multiplexed layers of
:mod:`spikegate.hdl.linear_stream` feed from their weight ROM. :func:`build_mac` and
:func:`build_mac_finish` split an exact dot product into multiply-accumulate steps of ``k``
products (the accumulator travels between steps as a port) and one final rounding.
"""

from __future__ import annotations

from ..golden.dot import ACCUM_MODES, ORDERS, get_out_format
from ..golden.fp8 import get_format
from .builder import NetlistBuilder
from .float_round import or_net, round_fixed
from .fp8.fields import Fp8Fields, unpack
from .fp8.formats import resolve
from .linear_form import Lin
from .gates import and_, parity, xor
from .heap import BitHeap
from .netlist import CONST0, CONST1, UNBOUNDED, Bounds, Netlist, check_name

__all__ = ["build_mac", "build_mac_finish", "acc_width", "build_dot", "build_linear",
           "build_relu", "relu_bits", "resolve_modes", "exact_dot_into", "tree_pairs",
           "check_codes_list", "DIGIT"]

#: Radix of the second shifter stage: exponents split as ``e = DIGIT*h + l``.
DIGIT = 8


def check_codes_list(values, n, what):
    values = list(values)
    if len(values) != n:
        raise ValueError(f"{what} has {len(values)} entries, expected {n}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 0xFF:
            raise ValueError(f"{what} must hold FP8 codes (ints 0..255), got {v!r}")
    return values


def _lits(bits, value):
    """Pairs and threshold offset for ``[bits == value]`` as literals."""
    pairs = [(x, 1 if (value >> i) & 1 else -1) for i, x in enumerate(bits)]
    return pairs, bin(value & ((1 << len(bits)) - 1)).count("1")


def _eq(b, bits, value, name):
    """``[bits == value]``: one neuron of literals."""
    lit, ones = _lits(bits, value)
    return b.neuron(lit, threshold=ones, name=name)


def _and_form(b, form_pairs, bits, value, name):
    """``form and [bits == value]`` in one neuron, for a 0/1-valued linear form."""
    lit, ones = _lits(bits, value)
    return b.neuron(form_pairs + lit, threshold=1 + ones, name=name)


class _Specials:
    """NaN / infinity / all-negative-zero flags collected over the terms of a sum."""

    def __init__(self):
        self.nan, self.inf_pos, self.inf_neg, self.negzero = [], [], [], []


def _product_form(b, A: Fp8Fields, B: Fp8Fields):
    """``Mx * Mw`` as a linear form of AND partial products (see fp8.multiplier)."""
    M, E = A.fmt.man_bits, A.fmt.exp_bits
    terms = []
    for i, x in enumerate(A.man):
        for j, y in enumerate(B.man):
            terms.append((and_(b, x, y), 1 << (i + j)))
    for hid, other in ((A, B), (B, A)):
        for j, y in enumerate(other.man):
            pp = b.neuron([(e, 1) for e in hid.exp] + [(y, E)], threshold=E + 1, name="hm")
            terms.append((pp, 1 << (M + j)))
    any_exp = b.neuron([(e, 1) for e in A.exp + B.exp], threshold=1, name="anyexp")
    return Lin(terms) + (Lin([(A.hidden, 1), (B.hidden, 1), (any_exp, -1)]) * (1 << (2 * M)))


def exact_dot_into(b: NetlistBuilder, heap: BitHeap, fmt, X: Fp8Fields, W: Fp8Fields,
                   specials: _Specials):
    """Add the exact signed product ``x * w`` (units ``2^(2*qexp)``) to ``heap``."""
    M, E = fmt.man_bits, fmt.exp_bits
    with b.block("sign"):
        s = xor(b, X.sign, W.sign)
    with b.block("product"):
        P = _product_form(b, X, W)
        pmax = ((1 << (M + 1)) - 1) ** 2
        nq = 2 * M + 3                                  # Q = D xor s, two's complement
        D = (P - Lin.net(s)).bits(b, nq, known=(-1, pmax), name="d")
        Ds = [and_(b, d, s) for d in D]
        Q = [b.neuron([(d, 1), (s, 1), (ds, -2)], threshold=1, name="q")
             for d, ds in zip(D, Ds)]                   # Q_j = D_j xor s
    with b.block("exponent"):
        emax = 2 * ((1 << E) - 1) - 2
        nbe = emax.bit_length()
        ebits = (X.exponent() + W.exponent() - 2).bits(b, nbe, known=(0, emax), name="e")
        el, eh = ebits[:3], ebits[3:]
        digits = (emax >> 3) + 1
        L = [_eq(b, el, l, "l") if l <= emax else CONST0 for l in range(DIGIT)]
        H = [_eq(b, eh, h, "h") for h in range(digits)] if eh else [CONST1]
    with b.block("shift"):
        span = DIGIT - 1
        top = nq - 1 + span                             # window sign bit
        window = []
        for c in range(top):
            terms = []
            for l in range(min(c, span) + 1):
                j = min(c - l, nq - 1)
                terms.append(and_(b, Q[j], L[l]))
            window.append(or_net(b, terms, "w"))
        window.append(Q[nq - 1])
    with b.block("place"):
        by_col = {}
        for h in range(digits):
            for c in range(top + 1):
                a = and_(b, window[c], H[h])
                if c == top:
                    heap.add(a, DIGIT * h + c, negative=True)
                else:
                    by_col.setdefault(DIGIT * h + c, []).append(a)
        for col, nets in sorted(by_col.items()):
            heap.add(or_net(b, nets, "col"), col)
    with b.block("special"):
        sp = specials
        sp.nan += [X.nan, W.nan]
        if fmt.has_inf:
            sp.nan.append(b.neuron([(X.inf, 1), (W.zero, 1)], threshold=2, name="infzero"))
            sp.nan.append(b.neuron([(W.inf, 1), (X.zero, 1)], threshold=2, name="infzero"))
            sp.inf_pos.append(b.neuron([(X.inf, 1), (W.inf, 1), (s, -2)], threshold=1,
                                       name="infp"))
            sp.inf_neg.append(b.neuron([(X.inf, 1), (W.inf, 1), (s, 2)], threshold=3,
                                       name="infn"))
        sp.negzero.append(b.neuron([(X.zero, 1), (W.zero, 1), (s, 2)], threshold=3,
                                   name="negzero"))


def _max_abs_sum(fmt, terms):
    M, E = fmt.man_bits, fmt.exp_bits
    emax = 2 * ((1 << E) - 1) - 2
    return terms * (((1 << (M + 1)) - 1) ** 2) << emax


def _flags(b, specials):
    """``(nan, inf_pos, inf_neg, all_neg_zero)`` nets of the collected specials."""
    sp = specials
    with b.block("special"):
        nan_any = or_net(b, sp.nan, "nan")
        inf_p = or_net(b, sp.inf_pos, "infp")
        inf_n = or_net(b, sp.inf_neg, "infn")
        allneg = (b.neuron([(z, 1) for z in sp.negzero], threshold=len(sp.negzero),
                           name="allneg") if sp.negzero else CONST1)
    return nan_any, inf_p, inf_n, allneg


def _round_sum(b, fmt, S, flags, out, policy):
    """Sign/magnitude of the two's complement sum ``S`` and one rounding into ``out``."""
    W = len(S)
    nan_any, inf_p, inf_n, allneg = flags
    sgn = S[W - 1]
    with b.block("magnitude"):
        mag = [S[0]]
        for k in range(1, W - 1):
            cin = b.neuron([(sgn, 1)] + [(x, -1) for x in S[:k]], threshold=1, name="cin")
            mag.append(parity(b, S[k], sgn, cin))
    with b.block("special"):
        both = and_(b, inf_p, inf_n)
        sign = b.neuron([(sgn, 1), (allneg, 1), (inf_p, -2), (inf_n, 2)], threshold=1,
                        name="sign")
    with b.block("round"):
        return round_fixed(b, out, policy if out.is_fp8 else "torch", mag=tuple(mag), scale=2 * fmt.quantum_exp,
                           sign=sign, nan=[nan_any, both], inf=[inf_p, inf_n])


def _finish_exact(b, fmt, heap, specials, out, policy):
    """Reduce the heap, then :func:`_round_sum`."""
    S = heap.reduce(b, name="acc")
    return _round_sum(b, fmt, S, _flags(b, specials), out, policy)


def acc_width(fmt, terms):
    """Two's complement width of an exact accumulator of ``terms`` products."""
    fmt = get_format(fmt)
    return max(_max_abs_sum(fmt, max(terms, 1)).bit_length() + 1, 2)


def _acc_buses(width):
    return [(f"acc{k}", min(32, width - 32 * k)) for k in range(-(-width // 32))]


def build_mac(k, fmt="e4m3", *, total, bias=False, name=None) -> Netlist:
    """One step of an exact (Kulisch) multiply-accumulate: ``acc += sum of k products``.

    Inputs ``x0..``, ``w0..`` (``k`` each), ``bias`` (when ``bias``: one more term, ``-0``
    when there is nothing to add), the accumulator ``acc0, acc1, ...`` (32-bit slices of the
    two's complement sum, :func:`acc_width` of ``total`` terms) and the flags ``nan``,
    ``infp``, ``infn``, ``negz``; outputs ``sum0..`` and ``nan_o``, ``infp_o``, ``infn_o``,
    ``negz_o``. Exact accumulation is independent of order, so ``total / k`` steps give the
    same bits as the spatial dot product.
    """
    fmt, _ = resolve(fmt)
    W = acc_width(fmt, total + (1 if bias else 0))
    b = NetlistBuilder(check_name(name or f"mac{k}_{fmt.name}", "netlist name"))
    xs = [unpack(b, fmt, b.input(f"x{i}", 8)) for i in range(k)]
    ws = [unpack(b, fmt, b.input(f"w{i}", 8)) for i in range(k)]
    heap = BitHeap(W)
    sp = _Specials()
    with b.block("mac"):
        for i, (X, Wf) in enumerate(zip(xs, ws)):
            with b.block(f"m{i}"):
                exact_dot_into(b, heap, fmt, X, Wf, sp)
        if bias:
            with b.block("bias"):
                Bf = unpack(b, fmt, b.input("bias", 8))
                One = unpack(b, fmt, b.const(fmt.one_code, 8))
                exact_dot_into(b, heap, fmt, Bf, One, sp)
        acc = []
        for bus, width in _acc_buses(W):
            acc += list(b.input(bus, width))
        heap.add_bus(acc, signed=True)
        fl = [b.input(f, 1)[0] for f in ("nan", "infp", "infn", "negz")]
        sp.nan.append(fl[0])
        sp.inf_pos.append(fl[1])
        sp.inf_neg.append(fl[2])
        sp.negzero.append(fl[3])
        S = heap.reduce(b, name="acc")
        flags = _flags(b, sp)
    for bus, width in _acc_buses(W):
        k0 = 32 * int(bus[3:])
        b.output("sum" + bus[3:], S[k0:k0 + width])
    for f, net in zip(("nan_o", "infp_o", "infn_o", "negz_o"), flags):
        b.output(f, (net,))
    b.meta.update(unit="mac", format=fmt.name, in_features=k, total=total, acc_width=W,
                  bias="port" if bias else "none")
    return b.build()


def build_mac_finish(fmt="e4m3", *, total, bias=False, out="fp32", policy="torch",
                     activation=None, name=None) -> Netlist:
    """Round a :func:`build_mac` accumulator once into ``out`` (ReLU optional): inputs
    ``acc*`` and the four flags, output ``y``."""
    fmt, policy = resolve(fmt, policy)
    outf = get_out_format(out)
    W = acc_width(fmt, total + (1 if bias else 0))
    b = NetlistBuilder(check_name(name or f"finish_{fmt.name}_{outf.name}", "netlist name"))
    S = []
    for bus, width in _acc_buses(W):
        S += list(b.input(bus, width))
    flags = [b.input(f, 1)[0] for f in ("nan", "infp", "infn", "negz")]
    with b.block("finish"):
        y = _round_sum(b, fmt, tuple(S), tuple(flags), outf, policy)
        if activation == "relu":
            y = relu_bits(b, outf, y)
    b.output("y", y)
    b.meta.update(unit="mac-finish", format=fmt.name, out_format=outf.name, policy=policy)
    return b.build()


def _exact_dot(b, fmt, xs, ws, bias, out, policy, *, name="dot"):
    """Exact dot product of unpacked operands; ``bias`` is None, a code, or a bus."""
    heap = BitHeap(acc_width(fmt, len(xs) + (1 if bias is not None else 0)))
    sp = _Specials()
    with b.block(name):
        for i, (X, W) in enumerate(zip(xs, ws)):
            with b.block(f"m{i}"):
                exact_dot_into(b, heap, fmt, X, W, sp)
        if bias is not None:
            with b.block("bias"):
                if isinstance(bias, int):
                    _const_bias(b, heap, fmt, bias, sp)
                else:
                    Bf = unpack(b, fmt, bias)
                    One = unpack(b, fmt, b.const(fmt.one_code, 8))
                    exact_dot_into(b, heap, fmt, Bf, One, sp)
        return _finish_exact(b, fmt, heap, sp, out, policy)


def _const_bias(b, heap, fmt, code, sp):
    from ..golden.fp8 import decode, is_inf, is_nan
    from fractions import Fraction
    if is_nan(fmt, code):
        sp.nan.append(CONST1)
    elif is_inf(fmt, code):
        (sp.inf_neg if code >> 7 else sp.inf_pos).append(CONST1)
    else:
        value = decode(fmt, code) / Fraction(2) ** (2 * fmt.quantum_exp)
        assert value.denominator == 1
        heap.add_const(int(value))
        if code != 0x80:
            sp.negzero.append(CONST0)


def tree_pairs(n):
    """The pairwise order: a list of levels, each a list of (i, j) index pairs into the
    current list of partial sums (an odd one out moves up unchanged, as the last)."""
    levels = []
    while n > 1:
        levels.append([(2 * k, 2 * k + 1) for k in range(n // 2)])
        n = (n + 1) // 2
    return levels


def _check(n, name):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name} must be a positive int, not {n!r}")
    return n


def resolve_modes(fmt, accum, out, order, policy):
    """``(fmt, policy, out format)`` of a dot product, checked; the default output format
    is fp32 for ``exact``, else the accumulator's."""
    fmt, policy = resolve(fmt, policy)
    if accum not in ACCUM_MODES:
        raise ValueError(f"unknown accumulation mode {accum!r}: choose one of "
                         f"{', '.join(ACCUM_MODES)}")
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}: choose one of {', '.join(ORDERS)}")
    if out is None:
        out = {"exact": "fp32", "fp32": "fp32", "fp16": "fp16", "fp8": fmt.name}[accum]
    outf = get_out_format(out)
    return fmt, policy, outf


def _weights_fields(b, fmt, n, weights, prefix):
    if weights is None:
        return [unpack(b, fmt, b.input(f"{prefix}{i}", 8)) for i in range(n)], None
    weights = check_codes_list(weights, n, "weights")
    with b.block("wconst"):
        return [unpack(b, fmt, b.const(c, 8)) for c in weights], weights


def build_dot(n, fmt="e4m3", *, accum="exact", out=None, policy="torch", order="tree",
              weights=None, bias=None, name=None, bounds: Bounds = UNBOUNDED) -> Netlist:
    """Dot product ``y = sum_i x_i * w_i (+ bias)`` of ``n`` FP8 inputs.

    Parameters
    ----------
    n : int
        Number of products (``in_features``).
    fmt : str
        ``"e4m3"`` or ``"e5m2"``: inputs, weights and bias.
    accum : str
        ``"exact"``, ``"fp32"``, ``"fp16"`` or ``"fp8"``.
    out : str or None
        Output format ``fp32``/``fp16``/``e4m3``/``e5m2`` (default: fp32 for exact, else the
        accumulator format).
    policy : str
        FP8 overflow policy of every FP8 rounding.
    order : str
        ``"tree"`` or ``"sequential"`` (FP accumulation only; exact ignores the order).
    weights : sequence of int or None
        FP8 codes baked in as constants; None: input ports ``w0 .. w{n-1}``.
    bias : None, int or "port"
        No bias, a constant FP8 code, or an input port ``bias``.

    Ports: ``x0 .. x{n-1}`` (and ``w*``, ``bias``), output ``y``.
    """
    return build_linear(n, 1, fmt, accum=accum, out=out, policy=policy, order=order,
                        weights=None if weights is None else [list(weights)],
                        bias=None if bias is None else (bias if bias == "port" else [bias]),
                        name=name, bounds=bounds, _dot=True)


def build_linear(in_features, out_features, fmt="e4m3", *, accum="exact", out=None,
                 policy="torch", order="tree", weights=None, bias=None, activation=None,
                 name=None, bounds: Bounds = UNBOUNDED, _dot=False) -> Netlist:
    """A fully spatial linear layer ``y_m = sum_n x_n * W[m][n] (+ b_m)``.

    ``weights``: ``out_features`` rows of ``in_features`` FP8 codes (constants), or None for
    ports ``w{m}_{n}``; ``bias``: None, a list of codes, or ``"port"`` (ports ``b{m}``).
    Outputs ``y0 .. y{M-1}`` (``y`` for :func:`build_dot`). The inputs' unpacking is shared
    by all outputs (structural hashing). ``activation="relu"`` applies :func:`relu_bits` to
    every output (FP8 output formats only).
    """
    N = _check(in_features, "in_features")
    Mo = _check(out_features, "out_features")
    fmt, policy, outf = resolve_modes(fmt, accum, out, order, policy)
    if name is None:
        kind = "dot" if _dot else f"linear{N}x{Mo}"
        name = (f"{kind}{N if _dot else ''}_{fmt.name}_{accum}_{outf.name}"
                + (f"_{order}" if accum != "exact" else ""))
    b = NetlistBuilder(check_name(name, "netlist name"), bounds=bounds)
    xs_bus = [b.input(f"x{i}", 8) for i in range(N)]
    if weights is not None:
        weights = list(weights)
        if len(weights) != Mo:
            raise ValueError(f"weights has {len(weights)} rows, expected {Mo}")
    if isinstance(bias, str) and bias != "port":
        raise ValueError(f"bias must be None, FP8 codes or 'port', not {bias!r}")
    if bias is not None and bias != "port":
        bias = check_codes_list(bias, Mo, "bias")
    if activation not in (None, "relu"):
        raise ValueError(f"unknown activation {activation!r}: choose None or 'relu'")
    if activation == "relu" and not outf.is_fp8:
        raise ValueError(f"activation 'relu' needs an FP8 output format, not {outf.name!r}")
    with b.block("in"):
        xs = [unpack(b, fmt, x) for x in xs_bus]
    outputs = []
    for m in range(Mo):
        prefix = "w" if _dot else f"w{m}_"
        with b.block("wt" if _dot else f"wt{m}"):
            ws, _ = _weights_fields(b, fmt, N, None if weights is None else weights[m], prefix)
        if bias == "port":
            bb = b.input("bias" if _dot else f"b{m}", 8)
        elif bias is not None:
            bb = bias[m]
        else:
            bb = None
        block = "dot" if _dot else f"o{m}"
        if accum == "exact":
            y = _exact_dot(b, fmt, xs, ws, bb, outf, policy, name=block)
        else:
            from .float_dot import fp_dot
            y = fp_dot(b, fmt, xs, ws, bb, outf, policy, accum=accum, order=order,
                       name=block, xbits=xs_bus)
        if activation == "relu":
            with b.block(f"relu{m}"):
                y = relu_bits(b, outf, y)
        outputs.append(y)
    if _dot:
        b.output("y", outputs[0])
    else:
        for m, y in enumerate(outputs):
            b.output(f"y{m}", y)
    b.meta.update(unit="dot" if _dot else "linear", format=fmt.name, policy=policy,
                  accum=accum, order=order, out_format=outf.name, in_features=N,
                  out_features=Mo, weights="port" if weights is None else "const",
                  bias="none" if bias is None else ("port" if bias == "port" else "const"),
                  activation=activation or "none")
    return b.build()


def relu_bits(b: NetlistBuilder, fmt, a):
    """ReLU of one FP8 bus (see :func:`build_relu`): four neurons and the unpack flags."""
    A = unpack(b, fmt, a)
    # kill: negative, non-zero, not NaN
    kill = b.neuron([(A.sign, 2), (A.zero, -1), (A.nan, -1)], threshold=2, name="neg")
    y = [b.neuron([(x, 1), (kill, -1), (A.nan, 1)], threshold=1, name="y") for x in a[:7]]
    y.append(b.neuron([(a[7], 1), (kill, -1), (A.nan, -1)], threshold=1, name="ys"))
    return tuple(y)


def build_relu(fmt="e4m3", *, width=1, name=None) -> Netlist:
    """FP8 ReLU as ``torch.relu`` computes it: ``x < 0 -> +0``; ``+x``, ``-0`` unchanged;
    NaN -> ``0x7F``. ``width`` parallel lanes ``a0..`` -> ``y0..`` (``a``/``y`` for one)."""
    fmt, _ = resolve(fmt)
    b = NetlistBuilder(name or f"relu_{fmt.name}" + (f"x{width}" if width > 1 else ""))
    for k in range(width):
        sfx = "" if width == 1 else str(k)
        a = b.input(f"a{sfx}", 8)
        with b.block(f"r{k}"):
            y = relu_bits(b, fmt, a)
        b.output(f"y{sfx}", y)
    b.meta.update(unit="relu", format=fmt.name, policy="exact", width=width)
    return b.build()
