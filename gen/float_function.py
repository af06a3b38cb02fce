"""Correctly rounded unary functions of 8-bit floats from threshold neurons.

``build_function(name, fmt, out=...)``: port ``a`` (the input code) -> ``y`` (the output
code), for ``exp``, ``sigmoid``, ``tanh``, ``silu``, ``gelu``, ``gelu-tanh``, ``recip`` and
``rsqrt`` (:mod:`spikegate.golden.functions`, the exact golden, gives the 256 results; any
output format). An 8-bit input makes any function a 256-entry table; the question is how
few neurons realise that table. Three architectures, the cheapest kept per function:

``thermometer`` (two neuron levels)
    Floats are ordered by code within a sign, so every output bit is a step function of
    the input code: ``bit_j = bit_j(0) + sum_t (bit_j(t) - bit_j(t-1)) [code >= t]`` over
    its change points ``t`` -- a sum that is exactly 0 or 1, so one neuron ``[sum >= 1]``
    gives the bit, with no quota neurons (each digit of a step function is itself a step
    function). Level 1 is one thermometer neuron per change point, shared by all bits:
    ``P_t = [code >= t]`` on the 8-bit code (``P_128`` is the sign bit itself) or
    ``M_t = [mag >= t]`` on the 7 magnitude bits, which serves a bit that does not depend on
    the sign (the magnitude bits of odd functions: ``tanh``, ``recip``). An isolated code
    (a NaN between two equal neighbours, a lone value) can instead be one minterm neuron
    ``[a == c]`` in place of two thermometers. Each bit picks among these forms so that the
    union of level-1 neurons is smallest (a few rounds of per-bit improvement).
``minterm`` (two levels)
    A plain decoder: one neuron ``[a == c]`` per input code whose output differs from the
    most common output, one neuron per output bit reading them.
``linbits`` (three levels)
    ``y = y0 + sum_t delta_t [code >= t]`` as one :class:`~.linear_form.Lin` over the change
    points of the whole output code, its binary digits by :meth:`Lin.bits` (quota neurons).
    Kept for comparison: the per-bit step sums never need quotas.

With ``bounds.max_fanin``, a bit whose sum reads more neurons than allowed becomes an OR
tree of interval indicators (``P_a - P_b``), or the NOR of the 0-intervals.
"""

from __future__ import annotations

from collections import Counter

from ..golden.formats import check_policy, get_format
from ..golden.functions import FUNCTIONS, check_function, function_table
from .builder import NetlistBuilder
from .linear_form import Lin
from .netlist import CONST0, CONST1, UNBOUNDED, Bounds, Netlist
from .thermometers import Thermometers
from .wide_function import WIDE_INPUT_BITS, wide_table_bits

__all__ = ["build_function", "METHODS", "WIDE_METHODS", "function_methods",
           "FUNCTION_FORMATS"]

#: The input formats offered: the 8-bit ones (table search here), the 16-bit ones
#: (:mod:`.wide_function`).
FUNCTION_FORMATS = ("e4m3", "e5m2", "bf16", "fp16")

METHODS = ("thermometer", "minterm", "linbits")


#: The architecture of the 16-bit formats (:mod:`.wide_function`).
WIDE_METHODS = ("table",)


def function_methods(fmt=None):
    """The ``variant`` choices of a function unit: ``default`` (the cheapest), then each."""
    if fmt is not None and get_format(fmt).width == WIDE_INPUT_BITS:
        return ("default",) + WIDE_METHODS
    if fmt is not None and get_format(fmt).name == "fp32":
        return ("default",)
    return ("default",) + METHODS


# -- the per-bit representations ------------------------------------------------------------

def _changes(seq):
    """Positions ``t >= 1`` where ``seq[t] != seq[t - 1]``."""
    return [t for t in range(1, len(seq)) if seq[t] != seq[t - 1]]


def _despike(seq):
    """``(smoothed, spikes)``: isolated values flipped to their neighbours, left to right."""
    cur = list(seq)
    spikes = []
    for c in range(1, len(cur) - 1):
        if cur[c - 1] == cur[c + 1] != cur[c]:
            spikes.append((c, seq[c] - cur[c - 1]))
            cur[c] = cur[c - 1]
    return cur, spikes


def _step_form(seq, thermo, minterm, spikes_ok):
    """A representation of the 0/1 sequence ``seq``: ``(const, {feature: weight})`` with
    ``seq[c] = const + sum(weight * feature(c))`` exactly; features are ``(thermo, t)`` and
    ``(minterm, c)`` keys."""
    if spikes_ok:
        smooth, spikes = _despike(seq)
    else:
        smooth, spikes = list(seq), []
    terms = {(thermo, t): smooth[t] - smooth[t - 1] for t in _changes(smooth)}
    for c, w in spikes:
        terms[(minterm, c)] = w
    return smooth[0], terms


def _cost(feature):
    kind, t = feature
    return 0 if (kind == "P" and t == 128) or kind == "a" else 1    # input bits are free


def _sources(seq, nbits, min_run=4):
    """Input bits ``k`` (and their complements) that equal ``seq`` on a run of codes."""
    out = []
    for k in range(nbits):
        for neg in (0, 1):
            run = best = 0
            for c, v in enumerate(seq):
                run = run + 1 if v == ((c >> k) & 1) ^ neg else 0
                best = max(best, run)
            if best >= min_run:
                out.append((k, neg))
    return out


def _run_form(seq, kind, k, neg, used):
    """``bit = [2G + u + x >= 2]``: ``x`` the input bit ``k`` (complemented when ``neg``) on
    the codes where ``u = 1`` (where the bit equals ``x``), the step function ``G`` (0 on
    those codes) elsewhere. A dynamic programme over the codes picks ``u`` to need the
    fewest thermometers not already in ``used``. Returns ``(const, terms, threshold)``."""
    INF = float("inf")
    states = ((0, 0), (0, 1), (1, 0))
    n = len(seq)

    def ok(c, st):
        u, g = st
        return (g == seq[c]) if not u else seq[c] == ((c >> k) & 1) ^ neg

    cost = [[INF] * 3 for _ in range(n)]
    back = [[0] * 3 for _ in range(n)]
    for i, st in enumerate(states):
        if ok(0, st):
            cost[0][i] = 0
    for c in range(1, n):
        step = 0 if (kind, c) in used or _cost((kind, c)) == 0 else 1
        for i, st in enumerate(states):
            if not ok(c, st):
                continue
            best, arg = INF, 0
            for p in range(3):
                v = cost[c - 1][p] + (0 if p == i else step + 1e-3)
                if v < best:
                    best, arg = v, p
            cost[c][i], back[c][i] = best, arg
    i = min(range(3), key=lambda i: cost[n - 1][i])
    path = [0] * n
    for c in range(n - 1, -1, -1):
        path[c] = i
        i = back[c][i]
    seqs = [states[i] for i in path]
    value = [2 * g + u for u, g in seqs]
    terms = {(kind, t): value[t] - value[t - 1] for t in range(1, n) if value[t] != value[t - 1]}
    terms[("a", k)] = -1 if neg else 1
    return value[0] + neg, terms, 2


def _bit_options(bits_code, spikes_ok, used=frozenset(), nbits=8):
    """Candidate forms of one output bit: ``(const, terms, threshold)``, the bit being
    ``[const + sum(weight * feature) >= threshold]``."""
    opts = [(*_step_form(bits_code, "P", "m", False), 1)]
    if spikes_ok:
        opts.append((*_step_form(bits_code, "P", "m", True), 1))
    for k, neg in _sources(bits_code, nbits):
        opts.append(_run_form(bits_code, "P", k, neg, used))
    half = len(bits_code) // 2
    pos, neg_half = bits_code[:half], bits_code[half:]
    if pos == neg_half:                          # independent of the sign: magnitude only
        opts.append((*_step_form(pos, "M", "mm", False), 1))
        if spikes_ok:
            opts.append((*_step_form(pos, "M", "mm", True), 1))
        for k, neg in _sources(pos, nbits - 1):
            opts.append(_run_form(pos, "M", k, neg, used))
    return opts


def _choose(seqs, spikes_ok, nbits, rounds=4):
    """One form per bit, so that the union of level-1 features is small: each bit in turn
    takes its best form given the features the other bits use."""
    def feats(choice, skip=None):
        out = Counter()
        for j, o in enumerate(choice):
            if j != skip and o is not None:
                out.update(o[1].keys())
        return out

    def own(o):
        return sum(_cost(f) for f in o[1])

    choice = [None] * len(seqs)
    for r in range(rounds):
        changed = False
        for j, seq in enumerate(seqs):
            others = feats(choice, j)
            opts = _bit_options(seq, spikes_ok, frozenset(others), nbits)
            best = min(opts, key=lambda o: (sum(_cost(f) for f in o[1] if f not in others),
                                            len(o[1])))
            if choice[j] is None or best[1] != choice[j][1] or best[0] != choice[j][0]:
                old = choice[j]
                cur = sum(_cost(f) for f in (old[1] if old else ()) if f not in others) \
                    if old else float("inf")
                new = sum(_cost(f) for f in best[1] if f not in others)
                if new < cur or (new == cur and old is not None and len(best[1]) < len(old[1])):
                    choice[j] = best
                    changed = True
        if not changed:
            break
    return choice


# -- neurons ------------------------------------------------------------------------------

def _or_tree(b, nets, fanin, invert, name):
    """OR (NOR when ``invert``) of 0/1 nets with at most ``fanin`` inputs per neuron."""
    nets = list(nets)
    while len(nets) > fanin:
        nets = [Lin([(n, 1) for n in nets[i:i + fanin]]).ge(b, 1, name=f"{name}_or")
                for i in range(0, len(nets), fanin)]
    form = Lin([(n, 1) for n in nets])
    return form.le(b, 0, name=name) if invert else form.ge(b, 1, name=name)


def _bounded_bit(b, F, seq, kind, fanin, name):
    """A bit as an OR tree of interval indicators (``[a, b)`` as ``T_a - T_b``)."""
    ones = sum(seq)
    invert = ones > len(seq) - ones
    target = 1 - invert
    intervals, start = [], None
    for c, v in enumerate(list(seq) + [1 - target]):
        if v == target and start is None:
            start = c
        elif v != target and start is not None:
            intervals.append((start, c))
            start = None
    if not intervals:
        return CONST1 if invert else CONST0
    atoms = [Lin.net(F.net((kind, lo))) - Lin.net(F.net((kind, hi))) for lo, hi in intervals]
    per = max(1, fanin // 2)
    chunks = []
    for i in range(0, len(atoms), per):
        form = sum(atoms[i:i + per], Lin())
        chunks.append(form.ge(b, 1, name=f"{name}_iv"))
    return _or_tree(b, chunks, fanin, invert, name)


def _thermometer(b, table, a, W, spikes_ok, fanin):
    F = Thermometers(b, a)
    bits = [[(y >> j) & 1 for y in table] for j in range(W)]
    if fanin is not None:
        out = []
        for j in range(W):
            half = len(table) // 2
            seq, kind = (bits[j][:half], "M") if bits[j][:half] == bits[j][half:] \
                else (bits[j], "P")
            with b.block("bits"):
                out.append(_bounded_bit(b, F, seq, kind, fanin, f"y{j}"))
        return out
    choice = _choose(bits, spikes_ok, len(a))
    out = []
    for j, (const, terms, threshold) in enumerate(choice):
        form = Lin([(F.net(f), w) for f, w in sorted(terms.items())], const)
        with b.block("bits"):
            out.append(form.ge(b, threshold, name=f"y{j}"))
    return out


def _minterm(b, table, a, W, fanin):
    F = Thermometers(b, a)
    base = Counter(table).most_common(1)[0][0]
    out = []
    for j in range(W):
        bj = (base >> j) & 1
        diff = [c for c, y in enumerate(table) if (y >> j) & 1 != bj]
        nets = [F.net(("m", c)) for c in diff]
        with b.block("bits"):
            if not nets:
                out.append(CONST1 if bj else CONST0)
            elif fanin is not None and len(nets) > fanin:
                out.append(_or_tree(b, nets, fanin, bool(bj), f"y{j}"))
            else:
                form = Lin([(n, 1) for n in nets])
                out.append(form.le(b, 0, name=f"y{j}") if bj else form.ge(b, 1, name=f"y{j}"))
    return out


def _linbits(b, table, a, W):
    F = Thermometers(b, a)
    form = Lin([(F.net(("P", t)), table[t] - table[t - 1]) for t in _changes(table)],
               table[0])
    with b.block("bits"):
        return list(form.bits(b, W, known=(min(table), max(table)), name="y"))


def _build(name, fmt, out, policy, method, bounds, table):
    tag = name.replace("-", "_")
    suffix = "" if out == fmt else f"_to_{out.name}"
    b = NetlistBuilder(f"{tag}_{fmt.name}{suffix}_{policy}", bounds=bounds)
    a = b.input("a", fmt.width)
    fanin = bounds.max_fanin
    if fanin is not None and fanin < fmt.width:
        raise ValueError(f"{name}: the thermometer and minterm neurons read all {fmt.width} "
                         f"input bits; max_fanin {fanin} is too small")
    if method == "table":
        y = wide_table_bits(b, a, table, out.width, (fmt.man_bits, fmt.man_bits + 1))
    elif method == "thermometer":
        y = _thermometer(b, table, a, out.width, True, fanin)
    elif method == "minterm":
        y = _minterm(b, table, a, out.width, fanin)
    else:
        if fanin is not None:
            raise ValueError("the linbits architecture has unbounded fan-in: choose "
                             "thermometer or minterm with max_fanin")
        y = _linbits(b, table, a, out.width)
    b.output("y", y)
    b.meta.update(unit=name, format=fmt.name, out_format=out.name, to=out.name,
                  policy=policy, method=method)
    return b.build()


def _key(netlist):
    s = netlist.stats()
    return (s["neurons"], s["depth"], s["max_fanin"])


def build_function(name, fmt, *, out=None, policy="torch", bounds: Bounds = UNBOUNDED,
                   method=None) -> Netlist:
    """``y = name(a)`` correctly rounded from format ``fmt`` to ``out`` (default: ``fmt``).

    ``method``: ``thermometer``, ``minterm``, ``linbits`` or ``None``/``"default"`` (build
    the ones the bounds allow and keep the one with fewest neurons, then depth, fan-in).
    """
    check_function(name)
    policy = check_policy(policy)
    fmt = get_format(fmt)
    out = get_format(out) if out is not None else fmt
    if fmt.name == "fp32":
        from .float32_function import build_float32_function
        if method not in (None, "default"):
            raise ValueError(f"{name} in fp32 has one architecture: choose default")
        if out != fmt:
            raise ValueError(f"{name} in fp32 gives fp32 results: drop --to")
        return build_float32_function(name, fmt, policy=policy, bounds=bounds)
    if fmt.name not in FUNCTION_FORMATS:
        raise ValueError(f"{name} is offered for {', '.join(FUNCTION_FORMATS)}, not "
                         f"{fmt.name}")
    if fmt.width == WIDE_INPUT_BITS:
        if method not in (None, "default") + WIDE_METHODS:
            raise ValueError(f"unknown architecture {method!r} of {name} in {fmt.name}: "
                             f"choose default, {', '.join(WIDE_METHODS)}")
        if bounds.max_fanin is not None or bounds.max_weight is not None:
            raise ValueError(f"{name} in {fmt.name}: the table architecture has wide output "
                             f"neurons and weights up to 2^15; bounded fan-in or weight is "
                             f"offered for e4m3 and e5m2 only")
        return _build(name, fmt, out, policy, "table", bounds,
                      function_table(name, fmt, out, policy))
    table = [int(v) for v in function_table(name, fmt, out, policy)]
    if method in (None, "default"):
        methods = [m for m in METHODS if not (m == "linbits" and bounds.max_fanin)]
        return min((_build(name, fmt, out, policy, m, bounds, table) for m in methods),
                   key=_key)
    if method not in METHODS:
        raise ValueError(f"unknown architecture {method!r} of {name}: choose default, "
                         f"{', '.join(METHODS)}")
    return _build(name, fmt, out, policy, method, bounds, table)


assert set(FUNCTIONS) == {"exp", "sigmoid", "tanh", "silu", "gelu", "gelu-tanh", "recip",
                          "rsqrt"}
