"""FP8 multiplier in five neuron levels: every rounding decision is one threshold on ``P``.

:func:`~.multiplier.build_fp8_mul` materialises the product bits, shifts them and then
rounds (seven levels). Here no product bit ever exists. Notation: ``P = Ma * Mb`` the
significand product, a linear form of level-1 partial products
(:func:`~.multiplier.significand_product`); ``u`` the scale (``X = P * 2^u`` in units of
the smallest subnormal), linear in the raw exponent bits and hidden bits; ``Ly =
floor(log2 P)``; ``F = Ly + u - M + 1``; shift ``d = max(Ly - M, -u)``; ``R_d = RNE(P / 2^d)``
(``M + 1`` significant bits, or fewer when subnormal). The magnitude code is
``2^M max(F - 1, 0) + R_d``, and ``RNE(P / 2^k) >= t`` exactly when ``P >= (2t - 1) 2^(k-1)``,
plus one when ``t`` is odd (ties go to the even ``t``).

Each rounding step is a threshold on ``P`` whose value depends on ONE other quantity, and
any function of ``u`` (of ``Ly``) is linear in the level-2 thermometer ``[u <= x]``
(``[P >= 2^j]``), so each step is a single neuron:

* ``t <= 2^M``: ``[R_d >= t] = [P >= theta_t(-u)]``, the threshold of shift ``-u`` alone.
  Where the result is subnormal, ``d = -u``; where it is normal, ``P >= 2^(M-u)`` already
  passes every such threshold, as ``[R_d >= t]`` must. One level-3 neuron per ``t``
  serves every shift: ``S_t = [P - sum_x jump_x [u <= x] >= theta]``.
* ``t > 2^M`` happens only for normal results, where ``d = Ly - M``: ``T_t = [P >=
  theta_t(Ly)]`` through the ``[P >= 2^j]`` thermometer, vetoed unless ``F_r >= 1``
  (``norm``, level 3), so ``T_t`` is level 4.

With ``F_r = Ly_r + u - M + 1`` the exponent field after the rounding carry (``Ly_r``: the
thermometer ``[P rounded to M+1 bits >= 2^j]``, level 2), the code is::

    code div 2^M = F_r                       where norm = [F_r >= 1]
                 = [R_d >= 2^M]              elsewhere (a subnormal rounding up: one neuron)
    code mod 2^M = (sum_t S_t + sum_t T_t) mod 2^M

``F_r`` is linear over level <= 2 neurons, so its digits take quota neurons (level 3) and
digit neurons (level 4; 5 for bit ``M``, which also reads the subnormal carry) gated by
``norm``; the low ``M`` digits read the nested chain
``S_1 >= .. >= S_(2^M) >= T_(2^M+1) >= ..`` with weights wrapped modulo ``2^(k+1)`` (partial
sums stay below it, so no quotas: level 5). Overflow (``code >= max_code + 1``) is one
level-3 neuron: above ``F = f0`` always, at ``F = f0`` when ``R_d >= t0``, a binade
threshold on ``P``. NaN, infinity, overflow and zero overrides are extra inputs of the
digit neurons. Depth: 1 partial products and flags, 2 thresholds on ``P`` and ``u``,
3 ``S_t`` / ``norm`` / overflow / quotas, 4 ``T_t`` and the subnormal carry, 5 the low
digits and bit ``M``.

The input space is small (65,536 pairs), so the builder evaluates the netlist it has grown
on all of them (:class:`_Probe`). That picks each threshold from the operand pairs that can
occur, sizes every override weight to the smallest that works, chooses the digit
reductions (weights modulo ``2^(k+1)`` spanning the fewest multiples of it, i.e. the fewest
quota neurons), and checks every identity above before the netlist is returned; the test
suite then checks the outputs against the golden model on all pairs.
"""

from __future__ import annotations

import numpy as np

from ..builder import NetlistBuilder
from ..netlist import CONST0, CONST1, UNBOUNDED, Bounds, Netlist
from .formats import overflow_code, resolve
from ..linear_form import Lin
from .multiplier import mul_front

__all__ = ["build_fp8_mul_shallow", "DEFAULT_MAX_WEIGHT"]

#: Weights stay within this unless the caller's bounds allow more (the FP8 units' |w| <= 128).
DEFAULT_MAX_WEIGHT = 128


def _check(ok, what):
    """A build-time identity of the design, checked on every operand pair (kept under -O)."""
    if not ok:
        raise RuntimeError(f"shallow multiplier: the {what} identity fails on some operand "
                           f"pair: this is a generator bug, please report it")


class _Probe:
    """Values of the builder's nets on all 65,536 operand pairs (``a`` major)."""

    def __init__(self, b: NetlistBuilder, a_bits, b_bits):
        codes = np.arange(256, dtype=np.int64)
        av, bv = (x.ravel() for x in np.meshgrid(codes, codes, indexing="ij"))
        self.size = av.size
        self.b = b
        self.vals = {CONST0: np.zeros(self.size, bool), CONST1: np.ones(self.size, bool)}
        for bus, v in ((a_bits, av), (b_bits, bv)):
            for i, net in enumerate(bus):
                self.vals[net] = ((v >> i) & 1).astype(bool)
        self.done = 0

    def _update(self):
        neurons = self.b.created           # in creation (topological) order
        for neuron in neurons[self.done:]:
            acc = np.full(self.size, neuron.bias - neuron.threshold, np.int64)
            for net, w in zip(neuron.inputs, neuron.weights):
                acc += np.int64(w) * self.vals[net]
            self.vals[neuron.out] = acc >= 0
        self.done = len(neurons)

    def net(self, n):
        self._update()
        return self.vals[n]

    def lin(self, form: Lin):
        self._update()
        acc = np.full(self.size, form.const, np.int64)
        for net, w in form.terms.items():
            acc += np.int64(w) * self.vals[net]
        return acc

    def any(self, nets):
        out = np.zeros(self.size, bool)
        for n in nets:
            out |= self.net(n)
        return out


def _distinct_rows(columns):
    """The distinct rows (0/1, sorted) of the matrix with these boolean columns."""
    assert len(columns) < 63
    code = np.zeros(columns[0].size, np.int64)
    for i, col in enumerate(columns):
        code |= col.astype(np.int64) << i
    code = np.unique(code)
    return np.stack([(code >> i) & 1 for i in range(len(columns))], axis=1).astype(np.uint8)


def _bins(f, m):
    lo, hi = int(f.min()), int(f.max())
    return lo // m, hi // m


def _score(f, m):
    """``(quotas, rows in the two extreme bins)``: what the weight search minimises."""
    blo, bhi = _bins(f, m)
    if blo == bhi:
        return (0, 0)
    q = f // m
    return (bhi - blo, int(np.count_nonzero(q == blo) + np.count_nonzero(q == bhi)))


def _reduce_weights(X, w, const, m, chains, index):
    """Weights ``w' == w (mod m)`` that make ``X @ w' + const`` span few multiples of ``m``.

    ``X``: distinct care rows (0/1) by terms. Starting points: the original weights, the
    balanced residues, and residues that keep every nested chain's running sum in
    ``[0, m)``; each is improved by steepest descent over single-weight moves of ``+-m``.
    """
    w = np.asarray(w, np.int64)
    bal = w % m
    bal = np.where(bal > m // 2, bal - m, bal)
    wrap = bal.copy()
    for chain in chains:
        run = 0
        for net in chain:
            if net not in index:
                continue
            i = index[net]
            r = int(w[i] % m)
            if run + r >= m:
                r -= m
            run += r
            wrap[i] = r
    best = None
    Xi = X.astype(np.int64)
    for start in (bal, wrap, w):
        cur = start.copy()
        f = Xi @ cur + const
        score = _score(f, m)
        for _ in range(400):
            if score[0] == 0:
                break
            moved = False
            cand = []
            for sign in (1, -1):
                Fm = f[:, None] + sign * m * Xi            # rows x terms
                lo, hi = Fm.min(axis=0), Fm.max(axis=0)
                blo, bhi = lo // m, hi // m
                q = Fm // m
                ext = (q == blo).sum(axis=0) + (q == bhi).sum(axis=0)
                ext = np.where(blo == bhi, 0, ext)
                cand.append((bhi - blo, ext))
            for sign, (qs, ext) in zip((1, -1), cand):
                keys = qs * (X.shape[0] * 2 + 1) + ext
                i = int(np.argmin(keys))
                if (int(qs[i]), int(ext[i])) < score:
                    cur[i] += sign * m
                    f = f + sign * m * Xi[:, i]
                    score = (int(qs[i]), int(ext[i]))
                    moved = True
                    break
            if not moved:
                break
        key = (score[0], int(np.count_nonzero(cur)))
        if best is None or key < best[0]:
            best = (key, cur)
    return best[1]


def _rne(p, k):
    """Round-half-even of ``p / 2^k`` on integer arrays (``p >= 0``; ``k`` may be <= 0)."""
    up = np.left_shift(p, np.maximum(-k, 0))
    k = np.maximum(k, 0)
    q = np.right_shift(p, k)
    r = p - np.left_shift(q, k)
    half = np.left_shift(1, np.maximum(k - 1, 0))
    inc = (k > 0) & ((r > half) | ((r == half) & (q & 1 == 1)))
    return np.where(k > 0, q + inc, up)


def _first_reaching(t, k):
    """Smallest ``P`` with ``RNE(P / 2^k) >= t``: ``(2t - 1) 2^(k-1)``, + 1 if ``t`` is odd."""
    if k <= 0:
        return (t + (1 << -k) - 1) >> -k
    return ((2 * t - 1) << (k - 1)) + (t & 1)


def _thresholds(keys, p, target, pmax):
    """Per key, a threshold ``theta`` with ``[p >= theta] == target`` on every row of that key.

    Keys with no rows take the neighbouring value; the choice keeps ``theta`` constant over
    runs of keys as long as possible (fewer thermometer inputs). Returns ``{key: theta}``.
    """
    bounds = {}
    for key in np.unique(keys).tolist():
        sel = keys == key
        zeros, ones = p[sel & ~target], p[sel & target]
        lo = int(zeros.max()) + 1 if zeros.size else 1      # >= 1: never fires for P = 0
        hi = int(ones.min()) if ones.size else pmax + 1
        _check(lo <= hi, "target not monotone in P")
        bounds[key] = (lo, hi)
    out, run, lo, hi = {}, [], 1, pmax + 1
    for key in sorted(bounds):
        klo, khi = bounds[key]
        if max(lo, klo) > min(hi, khi):
            out.update((r, lo) for r in run)
            run, lo, hi = [], 1, pmax + 1
        run.append(key)
        lo, hi = max(lo, klo), min(hi, khi)
    out.update((r, lo) for r in run)
    return out


def _ladder(theta, step_net):
    """``(pairs, base)`` with ``P + sum(pairs) >= base`` exactly when ``P >= theta[key]``.

    ``theta`` maps sorted keys to thresholds; ``step_net(k0, k1)`` is a thermometer net that
    is 1 on key ``k1`` and beyond (away from the base key ``k0``'s side), 0 on ``k0``.
    """
    keys = list(theta)
    base = theta[keys[0]]
    pairs = []
    for k0, k1 in zip(keys, keys[1:]):
        jump = theta[k1] - theta[k0]
        if jump:
            pairs.append((step_net(k0, k1), -jump))
    return pairs, base


def _override(b, probe, v: Lin, half, *, live=None, alt=(), sets=(), kills=(), name="y"):
    """Output neuron: 1 if any ``sets``; else 0 if any ``kills``; else ``[v >= half]`` where
    ``live`` is 1 (or is None) and ``any(alt)`` where it is 0.

    Weights are the smallest that give this on all 65,536 input pairs (the probe sees them
    all, so nothing is left to a bound).
    """
    sets, kills, alt = list(sets), list(kills), list(alt)
    vv = probe.lin(v)
    total = lambda nets: sum((probe.net(x).astype(np.int64) for x in nets),  # noqa: E731
                             np.zeros(vv.size, np.int64))
    g = np.ones(vv.size, np.int64) if live is None else probe.net(live).astype(np.int64)
    a, ns, nk = total(alt), total(sets), total(kills)
    sv, kv = ns > 0, nk > 0
    _check(not ((g == 1) & (a > 0) & ~sv & ~kv).any(), "alt overlaps live")

    def worst(need, sel):                     # smallest w >= 1 with w >= need on sel
        return max(int(need[sel].max()), 1) if sel.any() else 1

    gate = 0
    if live is not None:
        quiet = (g == 0) & (a == 0) & ~sv & ~kv
        gate = max(int(vv[quiet].max()) - half + 1, 0) if quiet.any() else 0
    wa = worst(-(-(half + gate - vv) // np.maximum(a, 1)), (g == 0) & (a > 0) & ~sv & ~kv)
    base = vv + gate * (g - 1) + wa * a - half      # >= 0 fires without sets / kills
    wk = worst((base + nk) // np.maximum(nk, 1), kv & ~sv)
    ws = worst(-((base - wk * nk) // np.maximum(ns, 1)), sv)
    pairs = v.pairs() + ([(live, gate)] if live is not None else [])
    pairs += [(x, wa) for x in alt] + [(x, ws) for x in sets] + [(x, -wk) for x in kills]
    return b.neuron(pairs, threshold=half + gate - v.const, name=name)


def build_fp8_mul_shallow(fmt, *, policy="torch", bounds: Bounds = UNBOUNDED) -> Netlist:
    """FP8 multiplier ``y = round(a * b)`` of depth 5: inputs ``a[8]``, ``b[8]``, output ``y[8]``.

    Bit-exact with :func:`~.multiplier.build_fp8_mul` (same formats, policies and
    canonical NaN ``0x7F``) but five neuron levels deep instead of seven, and smaller.
    It is shallow because no product bit is ever materialised: every rounding decision
    is one threshold on the significand product ``P`` (a linear form of level-1 partial
    products) whose threshold moves with the scale or with the binade of ``P`` through a
    level-2 thermometer. The rounded significand is thus a chain of level-3/4 neurons,
    the rounded exponent a linear form over level <= 2 neurons, and two more levels give
    the output digits with the NaN / infinity / overflow / zero overrides folded in. See
    the module docstring for the derivation.

    Parameters
    ----------
    fmt : str or Fp8Format
        ``"e4m3"`` or ``"e5m2"``.
    policy : str
        Overflow policy: ``"torch"``, ``"ocp"`` or ``"satfinite"``.
    bounds : Bounds
        Fan-in / weight limits, checked when the netlist is built. Overflow is tested in
        two neurons with weights about the significand product's range, keeping every
        weight within :data:`DEFAULT_MAX_WEIGHT` (as in the other FP8 units); a
        ``max_weight`` bound that admits its weight (896 for E4M3, 448 for E5M2) selects the
        one-neuron test instead (two neurons fewer).

    Returns
    -------
    Netlist
        Named ``fp8_mul_<fmt>_<policy>_shallow``, depth 5; every NaN result is ``0x7F``.
    """
    fmt, policy = resolve(fmt, policy)
    b = NetlistBuilder(f"fp8_mul_{fmt.name}_{policy}_shallow", bounds=bounds)
    A, B, _, P, sign, nan = mul_front(b, fmt)
    M = fmt.man_bits
    n = 2 * M + 2                                           # P < 2^n
    one = 1 << M
    nan = [x for x in nan if x != CONST0]
    inf = [x for x in (A.inf, B.inf) if x != CONST0]
    probe = _Probe(b, A.bits, B.bits)
    scale = A.exponent() + B.exponent() - (fmt.bias + M + 1)   # u: X = P * 2^u

    # -- the exact model, on all pairs (rows: finite operands, P != 0) --------------------
    pv, uv = probe.lin(P), probe.lin(scale)
    pmax = int(pv.max())
    rows = (pv >= 1) & ~probe.any(nan + inf)
    ly = np.floor(np.log2(np.maximum(pv, 1))).astype(np.int64)
    F = ly + uv - M + 1
    rd = _rne(pv, np.maximum(ly - M, -uv))                  # R_d
    code = np.where(pv >= 1, one * np.maximum(F - 1, 0) + rd, 0)

    def p_ge(c, name):
        return P.ge(b, c, name=name) if c <= pmax else CONST0

    with b.block("normalise"):
        yge = [p_ge(1 << j, "yge") for j in range(n)]      # [Ly >= j]
        # [Ly_r >= j]: P rounded to M+1 significant bits reaches 2^j
        ygr = [p_ge(_first_reaching(2 * one, j - 1 - M), "ygr") for j in range(1, n + 1)]
        Fr = Lin([(y, 1) for y in ygr]) + scale - M + 1    # exponent field after rounding
        frv = probe.lin(Fr)
        V = rd + one * ((F <= 0) & (frv >= 1))             # what the rounding chain counts
        # thresholds of [R_d >= t], t <= 2^M, as a function of u; then the u thermometer
        s_theta = [dict(sorted(_thresholds(uv[rows], pv[rows], V[rows] >= t, pmax).items(),
                               reverse=True)) for t in range(1, one + 1)]
        ule = {}

        def u_le(u0, u1):                                  # [u <= u1]
            if u1 not in ule:
                ule[u1] = scale.le(b, u1, name="ule")
            return ule[u1]

        s_ladders = [_ladder(theta, u_le) for theta in s_theta]

    with b.block("exponent"):
        norm = Fr.ge(b, 1, gate=yge[0], name="norm")       # [F_r >= 1 and P != 0]

    def binade_form(t, sel):
        """``(z, base)``: ``[z >= base] = [P >= theta_t(Ly)]``, ``= [V >= t]`` on ``sel``."""
        theta = _thresholds(ly[sel], pv[sel], V[sel] >= t, pmax)
        full, cur = {}, theta[min(theta)]
        for k in range(min(theta), max(theta) + 1):
            cur = full[k] = theta.get(k, cur)
        pairs, base = _ladder(full, lambda j0, j1: yge[j1])
        return P + Lin(pairs), base

    chain = []
    with b.block("round"):
        # t <= 2^M: [R_d >= t] = [P >= theta_t(u)]: one neuron per t for every shift
        for pairs, base in s_ladders:
            chain.append((P + Lin(pairs)).ge(b, base, name="s"))
        # t > 2^M: only where F_r >= 1, with the threshold set by the binade of P
        for t in range(one + 1, 2 * one + 1):
            z, base = binade_form(t, rows & (frv >= 1))
            w = int(probe.lin(z).max()) - base + 1
            chain.append((z + Lin.net(norm, w)).ge(b, base + w, name="t"))
        # the one high bit of a subnormal result: rounding up to the smallest normal
        subcarry = b.neuron([(chain[one - 1], 1), (norm, -1)], threshold=1, name="subcarry")

        # overflow, code >= max_code + 1: at F = f0 it is [R_d >= t0], above always
        top = fmt.max_code + 1
        f0 = -(-(top - 2 * one) // one) + 1
        t0 = top - one * (f0 - 1)
        z, base = binade_form(t0, rows & (F == f0))
        F_form = Lin([(y, 1) for y in yge[1:]]) + scale - M + 1
        zv, fv, pos = probe.lin(z) - base, probe.lin(F_form), probe.net(yge[0])
        w = max(int(-zv[pos].min()), int(zv[pos].max()) + 1)
        w0 = max(int((zv + w * (fv - f0))[~pos].max()) + 1, 1)
        one_neuron = z + (F_form - f0) * w + Lin.net(yge[0], w0)
        heavy = max(map(abs, one_neuron.terms.values()))
        if heavy <= (bounds.max_weight or DEFAULT_MAX_WEIGHT):
            ovf = one_neuron.ge(b, base + w0, name="ovf")
        else:                    # [F >= f0] and [F >= f0 + 1] first: small weights, level 4
            e0 = F_form.ge(b, f0, gate=yge[0], name="fovf")
            e1 = F_form.ge(b, f0 + 1, gate=yge[0], name="fovf")
            ovf = (z + Lin([(e0, w), (e1, w)])).ge(b, base + w, name="ovf")

    # -- checks of the algebra on every pair, then the digits ---------------------------
    cs = sum(probe.net(c).astype(np.int64) for c in chain)
    nv, sc = probe.net(norm), probe.net(subcarry)
    _check((frv[rows & nv] == (code >> M)[rows & nv]).all(), "exponent form")
    _check((sc[rows & ~nv] == (code >> M)[rows & ~nv]).all(), "subnormal carry")
    _check((cs[pv >= 0] % one == code % one).all() and not cs[pv == 0].any(), "rounding chain")
    _check((probe.net(ovf)[rows] == (code >= top)[rows]).all(), "overflow neuron")

    ocode, keeps_sign = overflow_code(fmt, policy)
    big = [ovf] + inf
    if not keeps_sign:
        nan, big = nan + big, []
    care = ~probe.any(nan + big + inf) & ~probe.net(ovf)     # no override applies
    nets = sorted(Fr.terms)
    X = _distinct_rows([probe.net(x)[care & nv] for x in nets])
    out = []
    with b.block("round"):
        for k in range(7):
            if k < M:        # low digits: the chain, weights wrapped mod 2^(k+1)
                m, half, run, pairs = 2 << k, 1 << k, 0, []
                for c in chain:
                    w = 1 if run + 1 < m else 1 - m
                    run += w
                    pairs.append((c, w))
                v, live, alt = Lin(pairs), None, []
            else:            # high digits: bit k-M of F_r where F_r >= 1, with quotas
                m, half = 2 << (k - M), 1 << (k - M)
                wk = _reduce_weights(X, [Fr.terms[x] for x in nets], Fr.const, m, [ygr],
                                     {x: i for i, x in enumerate(nets)})
                f = Lin(list(zip(nets, (int(x) for x in wk))), Fr.const)
                blo, bhi = _bins(X.astype(np.int64) @ wk + Fr.const, m)
                quotas = [f.ge(b, q * m, name="q") for q in range(blo + 1, bhi + 1)]
                v = f - Lin([(q, m) for q in quotas]) - blo * m
                live, alt = norm, ([subcarry] if k == M else [])
            sets = nan + (big if (ocode >> k) & 1 else [])
            kills = [] if (ocode >> k) & 1 else big
            y = _override(b, probe, v, half, live=live, alt=alt, sets=sets, kills=kills)
            _check((probe.net(y)[care] == ((code[care] >> k) & 1)).all(), f"digit {k}")
            out.append(y)
    with b.block("special"):
        form, thr = sign
        kill = form.bounds()[1] - thr + 1
        pairs = form.pairs() + [(q, -kill) for q in nan]
        out.append(b.neuron(pairs, threshold=thr - form.const, name="sign"))
    b.output("y", out)
    b.meta.update(unit="fp8-mul", format=fmt.name, policy=policy, variant="shallow")
    return b.build()
