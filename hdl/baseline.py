"""Behavioural baselines: the same operation written plainly in Verilog, for comparison.

A neuron-built design is only worth its LUTs if it beats what an engineer would write by
hand. This module writes that hand-written version of every unit the CLI generates, with
exactly the unit's ports and semantics (FP8: the named overflow policy, subnormals,
round-to-nearest-even, the canonical NaN ``0x7F``), so the synthesis flow can put both
through the same tools. The FP8 baselines are proven bit-exact on all 65,536 input pairs
against the torch golden in ``tests/test_synth.py``.

The FP8 datapaths are the textbook ones: the multiplier multiplies the significands,
normalises with a leading-zero count, shifts right for subnormal results and rounds with
guard and sticky bits; the adder swaps so that ``|x| >= |z|``, aligns ``z`` with guard,
round and sticky bits, adds or subtracts, normalises and rounds. Nothing is tuned for a
particular FPGA.

The any-format float baselines (:func:`float_mul_verilog`, :func:`float_add_verilog`; report
units ``fmul``, ``fadd``, ``fsub``) are the same two datapaths with every width derived from
the format (:func:`spikegate.golden.formats.get_format`: exponent and fraction bits, bias,
canonical NaN, largest finite code; overflow per
:func:`~spikegate.golden.formats.overflow_code`), for every IEEE-convention format (fp16,
bf16, fp32, custom ``eXmY``; E4M3/E5M2 keep the FP8 ones above). They are checked bit-exact
on Icarus against the torch golden on TestFloat-style vectors in
``tests/test_baseline_float.py``.
"""

from __future__ import annotations

from ..golden.fp8 import check_policy, get_format
from ..golden import formats as _formats

__all__ = ["baseline_verilog", "fp8_mul_verilog", "fp8_add_verilog", "float_mul_verilog",
           "float_add_verilog", "FLOAT_BASELINES", "BaselineUnavailable"]


class BaselineUnavailable(ValueError):
    """No behavioural baseline is written for this unit."""


def _overflow_expr(fmt, policy, sign):
    """Verilog expression of the code an overflow (or an infinity) gives, per policy."""
    if policy == "satfinite" or (policy == "torch" and not fmt.has_inf):
        return f"{{{sign}, 7'h{fmt.max_code:02X}}}"
    if fmt.has_inf:
        return f"{{{sign}, 7'h{fmt.inf_code & 0x7F:02X}}}"
    return "8'h7F"  # ocp E4M3: no infinity, overflow is NaN


def _fields(fmt, x):
    """Declarations of the NaN / infinity / exponent / significand fields of operand x."""
    ew, mw = fmt.exp_bits, fmt.man_bits
    if fmt.has_inf:
        nan = f"(&{x}[6:{mw}]) & (|{x}[{mw - 1}:0])"
        inf = f"(&{x}[6:{mw}]) & ~(|{x}[{mw - 1}:0])"
    else:
        nan = f"({x}[6:0] == 7'h7F)"
        inf = "1'b0"
    return (f"    wire nan_{x} = {nan};\n"
            f"    wire inf_{x} = {inf};\n"
            f"    wire zero_{x} = ({x}[6:0] == 7'd0);\n"
            f"    wire [{ew - 1}:0] e_{x} = (|{x}[6:{mw}]) ? {x}[6:{mw}] : {ew}'d1;  "
            f"// effective biased exponent\n"
            f"    wire [{mw}:0] m_{x} = {{|{x}[6:{mw}], {x}[{mw - 1}:0]}};  "
            f"// significand with its hidden bit\n")


def _leading_zeros(vec, width, lzw):
    """``lz``: leading zeros of ``vec[width-1:0]`` (``width`` when it is zero)."""
    return f"""\
    reg [{lzw - 1}:0] lz;
    integer i;
    always @* begin
        lz = {width};
        for (i = 0; i < {width}; i = i + 1)
            if ({vec}[i]) lz = {width - 1} - i;
    end
"""


def _fp8_head(top, fmt, policy, what):
    """Comment, ports and operand fields shared by the FP8 baselines."""
    return f"""\
// {top}: behavioural FP8 {fmt.name.upper()} {what}, overflow policy '{policy}'.
// Written plainly (no neurons) as the baseline that spikegate's neuron-built {what} is
// compared against: same ports, same results on all 65,536 input pairs.
module {top} (
    input  wire [7:0] a,
    input  wire [7:0] b,
    output reg  [7:0] y
);
{_fields(fmt, "a")}{_fields(fmt, "b")}"""


def _product_round(fmt):
    """``(code width, Verilog)`` of a multiplier's datapath after the sign: significand
    product with ``*``, leading-zero normalisation, right shift into the subnormal range,
    RNE with guard and sticky, into ``code`` (exponent field and significand, before the
    overflow test). Shared by the FP8 and the any-format baselines."""
    E, M, bias = fmt.exp_bits, fmt.man_bits, fmt.bias
    n = M + 1                  # significand bits
    pw = 2 * n                 # product bits
    pad = n + 1                # room below the product for the subnormal right shift
    tw = pw + pad
    lzw = pw.bit_length()
    emax = (1 << E) - 2
    ew = _signed_width(2 - (bias - 1) - pw, 2 * emax - (bias - 1)) + 1
    cw = ew + M + 1
    rsw = pad.bit_length()
    return cw, f"""\
    wire [{pw - 1}:0] p = m_a * m_b;

    // leading zeros of the significand product
{_leading_zeros("p", pw, lzw)}
    // biased exponent of the leading one; below 1 the result is subnormal
    wire signed [{ew - 1}:0] e = $signed({{{ew - E}'d0, e_a}}) + $signed({{{ew - E}'d0, e_b}})
                          - {ew}'sd{bias - 1} - $signed({{{ew - lzw}'d0, lz}});
    wire subnormal = (e < {ew}'sd1);
    wire signed [{ew - 1}:0] rs_full = {ew}'sd1 - e;
    wire [{rsw - 1}:0] rs = ~subnormal ? {rsw}'d0
                          : (rs_full > {ew}'sd{pad}) ? {rsw}'d{pad} : rs_full[{rsw - 1}:0];
    wire [{pw - 1}:0] norm = p << lz;
    wire [{tw - 1}:0] t = {{norm, {pad}'d0}} >> rs;
    wire [{M}:0] m = t[{tw - 1}:{tw - n}];
    wire g = t[{tw - n - 1}];
    wire sticky = |t[{tw - n - 2}:0];
    wire up = g & (sticky | m[0]);
    // (E - 1) << M plus the significand: the hidden bit carries into the exponent field,
    // and a subnormal (hidden bit 0, E = 1) gets field 0; rounding may carry on up.
    wire [{ew - 1}:0] e1 = subnormal ? {ew}'d0 : e - {ew}'sd1;
    wire [{cw - 1}:0] code = {{1'b0, e1, {M}'d0}} + m + up;"""


def fp8_mul_verilog(top, fmt="e4m3", policy="torch"):
    """Behavioural Verilog of an FP8 multiplier ``y = a * b`` (ports a[8], b[8] -> y[8])."""
    fmt, policy = get_format(fmt), check_policy(policy)
    cw, datapath = _product_round(fmt)
    return f"""\
{_fp8_head(top, fmt, policy, "multiplier")}
    wire s = a[7] ^ b[7];
{datapath}

    always @* begin
        if (nan_a | nan_b | ((inf_a | inf_b) & (zero_a | zero_b)))
            y = 8'h7F;
        else if (inf_a | inf_b)
            y = {_overflow_expr(fmt, policy, "s")};
        else if (zero_a | zero_b)
            y = {{s, 7'd0}};
        else if (code > {_hex(cw, fmt.max_code)})
            y = {_overflow_expr(fmt, policy, "s")};
        else
            y = {{s, code[6:0]}};
    end
endmodule
"""


def fp8_add_verilog(top, fmt="e4m3", policy="torch"):
    """Behavioural Verilog of an FP8 adder ``y = a + b`` (ports a[8], b[8] -> y[8])."""
    fmt, policy = get_format(fmt), check_policy(policy)
    ew, mw = fmt.exp_bits, fmt.man_bits
    n = mw + 1
    w = n + 3                  # significand, guard, round, sticky
    lzw = w.bit_length()
    dw = w.bit_length()
    return f"""\
{_fp8_head(top, fmt, policy, "adder")}
    // x is the operand of larger magnitude, z the other
    wire swap = b[6:0] > a[6:0];
    wire sx = swap ? b[7] : a[7];
    wire sz = swap ? a[7] : b[7];
    wire [{ew - 1}:0] ex = swap ? e_b : e_a;
    wire [{ew - 1}:0] ez = swap ? e_a : e_b;
    wire [{mw}:0] mx = swap ? m_b : m_a;
    wire [{mw}:0] mz = swap ? m_a : m_b;

    // align z: shift right by the exponent difference, keeping guard, round and sticky
    wire [{ew - 1}:0] d = ex - ez;
    wire [{dw - 1}:0] sh = (d > {w}) ? {w} : d;
    wire [{2 * w - 1}:0] zt = {{mz, {2 * w - n}'d0}} >> sh;
    wire [{w - 1}:0] za = {{zt[{2 * w - 1}:{w + 1}], zt[{w}] | (|zt[{w - 1}:0])}};
    wire [{w - 1}:0] xa = {{mx, 3'd0}};
    wire [{w}:0] sum = (sx == sz) ? xa + za : xa - za;

    // normalise: one right shift on a carry, else a left shift down to exponent 1
{_leading_zeros("sum", w, lzw)}    wire [{ew}:0] lsh = (lz < ex) ? lz : ex - 1;
    wire [{w - 1}:0] left = sum[{w - 1}:0] << lsh;
    wire [{w - 1}:0] nrm = sum[{w}] ? {{sum[{w}:2], sum[1] | sum[0]}} : left;
    wire [{ew}:0] en = sum[{w}] ? ex + 1 : ex - lsh;
    wire [{mw}:0] m = nrm[{w - 1}:3];
    wire g = nrm[2];
    wire sticky = nrm[1] | nrm[0];
    wire up = g & (sticky | m[0]);
    // (E - 1) << MW plus the significand (see the multiplier)
    wire [9:0] code = {{en - 1'b1, {mw}'d0}} + m + up;

    always @* begin
        if (nan_a | nan_b | (inf_a & inf_b & (a[7] ^ b[7])))
            y = 8'h7F;
        else if (inf_a | inf_b)
            y = {_overflow_expr(fmt, policy, "(inf_a ? a[7] : b[7])")};
        else if (sum == 0)
            y = {{a[7] & b[7], 7'd0}};
        else if (code > 10'd{fmt.max_code})
            y = {_overflow_expr(fmt, policy, "sx")};
        else
            y = {{sx, code[6:0]}};
    end
endmodule
"""


# --------------------------------------------------------------------------- any-format float

def _float_format(fmt, policy):
    """The :class:`~spikegate.golden.formats.FloatFormat` and policy of a wide baseline."""
    fmt, policy = _formats.get_format(fmt), _formats.check_policy(policy)
    if not fmt.has_inf:
        raise BaselineUnavailable(f"the any-format float baselines are written for the IEEE "
                                  f"convention, not {fmt.name} ({fmt.convention})")
    return fmt, policy


def _hex(width, value):
    return f"{width}'h{value:0{(width + 3) // 4}X}"


def _float_overflow(fmt, policy, sign):
    """Verilog of the code an overflow (or an infinite result) gives, per policy."""
    code, keeps_sign = _formats.overflow_code(fmt, policy)
    if keeps_sign:
        return f"{{{sign}, {_hex(fmt.width - 1, code)}}}"
    return _hex(fmt.width, code)


def _signed_width(lo, hi):
    """Bits of a two's-complement wire that holds every value in ``[lo, hi]``."""
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi < (1 << (w - 1))):
        w += 1
    return w


def _float_head(top, fmt, policy, what):
    """Comment, ports and the unpacked fields of both operands."""
    W, E, M = fmt.width, fmt.exp_bits, fmt.man_bits
    fields = []
    for x in ("a", "b"):
        fields.append(f"""\
    wire s_{x} = {x}[{W - 1}];
    wire [{E - 1}:0] ef_{x} = {x}[{W - 2}:{M}];
    wire [{M - 1}:0] f_{x} = {x}[{M - 1}:0];
    wire nan_{x} = (&ef_{x}) & (|f_{x});
    wire inf_{x} = (&ef_{x}) & ~(|f_{x});
    wire zero_{x} = ~(|{x}[{W - 2}:0]);
    wire [{E - 1}:0] e_{x} = (|ef_{x}) ? ef_{x} : {E}'d1;  // effective biased exponent
    wire [{M}:0] m_{x} = {{|ef_{x}, f_{x}}};  // significand with its hidden bit
""")
    return f"""\
// {top}: behavioural {fmt.name} (E{E}M{M}, bias {fmt.bias}) {what}, round to nearest even,
// subnormals, canonical NaN {_hex(W, fmt.canonical_nan)}, overflow policy '{policy}'.
// Written plainly (no neurons) as the baseline that spikegate's neuron-built {what} is
// compared against: same ports, same results (checked against torch in
// tests/test_baseline_float.py).
module {top} (
    input  wire [{W - 1}:0] a,
    input  wire [{W - 1}:0] b,
    output reg  [{W - 1}:0] y
);
{"".join(fields)}"""


def float_mul_verilog(top, fmt="fp16", policy="torch"):
    """Behavioural Verilog of an IEEE-convention float multiplier ``y = a * b`` in any
    format (ports a[W], b[W] -> y[W]): significand product with ``*``, leading-zero
    normalisation, right shift into the subnormal range, RNE with guard and sticky."""
    fmt, policy = _float_format(fmt, policy)
    W = fmt.width
    cw, datapath = _product_round(fmt)
    return f"""\
{_float_head(top, fmt, policy, "multiplier")}
    wire s = s_a ^ s_b;
{datapath}

    always @* begin
        if (nan_a | nan_b | ((inf_a | inf_b) & (zero_a | zero_b)))
            y = {_hex(W, fmt.canonical_nan)};
        else if (inf_a | inf_b)
            y = {_float_overflow(fmt, policy, "s")};
        else if (zero_a | zero_b)
            y = {{s, {W - 1}'d0}};
        else if (code > {_hex(cw, fmt.max_code)})
            y = {_float_overflow(fmt, policy, "s")};
        else
            y = {{s, code[{W - 2}:0]}};
    end
endmodule
"""


def float_add_verilog(top, fmt="fp16", policy="torch", subtract=False):
    """Behavioural Verilog of an IEEE-convention float adder ``y = a + b`` (``a - b`` with
    *subtract*) in any format: compare and swap so that ``|x| >= |z|``, align ``z`` with
    guard, round and sticky bits, add or subtract, normalise with a leading-zero count
    (down to exponent 1: subnormal results), RNE, pack."""
    fmt, policy = _float_format(fmt, policy)
    W, E, M = fmt.width, fmt.exp_bits, fmt.man_bits
    n = M + 1
    w = n + 3                  # significand, guard, round, sticky
    lzw = w.bit_length()
    dw = w.bit_length()
    cw = E + M + 2
    sb = "~s_b" if subtract else "s_b"
    what = "subtractor" if subtract else "adder"
    return f"""\
{_float_head(top, fmt, policy, what)}
    wire sb = {sb};  // sign of the addend
    // x is the operand of larger magnitude, z the other
    wire swap = b[{W - 2}:0] > a[{W - 2}:0];
    wire sx = swap ? sb : s_a;
    wire sz = swap ? s_a : sb;
    wire [{E - 1}:0] ex = swap ? e_b : e_a;
    wire [{E - 1}:0] ez = swap ? e_a : e_b;
    wire [{M}:0] mx = swap ? m_b : m_a;
    wire [{M}:0] mz = swap ? m_a : m_b;

    // align z: shift right by the exponent difference, keeping guard, round and sticky
    wire [{E - 1}:0] d = ex - ez;
    wire [{dw - 1}:0] sh = (d > {w}) ? {dw}'d{w} : d[{dw - 1}:0];
    wire [{2 * w - 1}:0] zt = {{mz, {2 * w - n}'d0}} >> sh;
    wire [{w - 1}:0] za = {{zt[{2 * w - 1}:{w + 1}], zt[{w}] | (|zt[{w - 1}:0])}};
    wire [{w - 1}:0] xa = {{mx, 3'd0}};
    wire [{w}:0] sum = (sx == sz) ? xa + za : xa - za;

    // normalise: one right shift on a carry, else a left shift down to exponent 1
{_leading_zeros("sum", w, lzw)}    wire [{E}:0] lsh = (lz < ex) ? lz : ex - 1'b1;
    wire [{w - 1}:0] left = sum[{w - 1}:0] << lsh;
    wire [{w - 1}:0] nrm = sum[{w}] ? {{sum[{w}:2], sum[1] | sum[0]}} : left;
    wire [{E}:0] en = sum[{w}] ? ex + 1'b1 : ex - lsh;
    wire [{M}:0] m = nrm[{w - 1}:3];
    wire g = nrm[2];
    wire sticky = nrm[1] | nrm[0];
    wire up = g & (sticky | m[0]);
    // (E - 1) << M plus the significand (see the multiplier)
    wire [{cw - 1}:0] code = {{en - 1'b1, {M}'d0}} + m + up;

    always @* begin
        if (nan_a | nan_b | (inf_a & inf_b & (s_a ^ sb)))
            y = {_hex(W, fmt.canonical_nan)};
        else if (inf_a | inf_b)
            y = {_float_overflow(fmt, policy, "(inf_a ? s_a : sb)")};
        else if (sum == 0)
            y = {{s_a & sb, {W - 1}'d0}};
        else if (code > {_hex(cw, fmt.max_code)})
            y = {_float_overflow(fmt, policy, "sx")};
        else
            y = {{sx, code[{W - 2}:0]}};
    end
endmodule
"""


def _float_baseline(op):
    def write(top, fmt, policy):
        f = _formats.get_format(fmt)
        if f.name in ("e4m3", "e5m2") and op in ("fmul", "fadd"):  # the FP8 baselines
            fn = fp8_mul_verilog if op == "fmul" else fp8_add_verilog
            return fn(top, f.name, policy)
        if op == "fmul":
            return float_mul_verilog(top, f, policy)
        return float_add_verilog(top, f, policy, subtract=op == "fsub")
    return write


#: Behavioural float baselines by report unit: ``write(top, fmt, policy)`` -> Verilog.
FLOAT_BASELINES = {"fadd": _float_baseline("fadd"), "fsub": _float_baseline("fsub"),
                   "fmul": _float_baseline("fmul"), "fp8-mul": _float_baseline("fmul"),
                   "fp8-add": _float_baseline("fadd")}


# --------------------------------------------------------------------------- catalogue blocks

def _ports_decl(ports):
    lines = []
    for name, (direction, width) in ports.items():
        rng = f"[{width - 1}:0] " if width > 1 else ""
        lines.append(f"    {'input ' if direction == 'in' else 'output'} wire {rng}{name}")
    return ",\n".join(lines)


_GATES = {
    "not": "~a", "and": "a & b", "or": "a | b", "nand": "~(a & b)", "nor": "~(a | b)",
    "xor": "a ^ b", "xnor": "~(a ^ b)", "mux": "s ? b : a",
    "majority": "(a & b) | (a & c) | (b & c)",
}


def _block_body(unit, width, ports):
    w = width
    if unit in _GATES:
        return f"    assign y = {_GATES[unit]};\n"
    if unit in ("half_adder", "full_adder"):
        extra = " + c" if unit == "full_adder" else ""
        return f"    assign {{carry, sum}} = a + b{extra};\n"
    if unit == "add":
        return "    assign {cout, y} = a + b + cin;\n"
    if unit == "sub":
        return "    assign y = a - b;\n    assign ge = a >= b;\n"
    if unit == "addsub":
        return f"    assign {{cout, y}} = a + (b ^ {{{w}{{sub}}}}) + sub;\n"
    if unit == "increment":
        return "    assign {cout, y} = a + 1'b1;\n"
    if unit == "multiply":
        return "    assign y = a * b;\n"
    if unit == "compare":
        return ("    assign lt = a < b;\n    assign le = a <= b;\n    assign gt = a > b;\n"
                "    assign ge = a >= b;\n    assign eq = a == b;\n    assign ne = a != b;\n"
                "    assign slt = $signed(a) < $signed(b);\n"
                "    assign sge = $signed(a) >= $signed(b);\n")
    yw = ports["y"][1] if "y" in ports else 1
    if unit == "popcount":
        return (f"    reg [{yw - 1}:0] count;\n    integer i;\n"
                f"    always @* begin\n        count = 0;\n"
                f"        for (i = 0; i < {w}; i = i + 1) count = count + a[i];\n    end\n"
                f"    assign y = count;\n")
    if unit == "lzc":
        return (f"    reg [{yw - 1}:0] count;\n    integer i;\n"
                f"    always @* begin\n        count = {w};\n"
                f"        for (i = 0; i < {w}; i = i + 1) if (a[i]) count = {w - 1} - i;\n"
                f"    end\n    assign y = count;\n")
    if unit == "shift_left":
        return "    assign y = a << amount;\n"
    if unit == "shift_right":
        return (f"    assign y = a >> amount;\n"
                f"    assign sticky = |(a & ~({{{w}{{1'b1}}}} << amount));\n")
    raise BaselineUnavailable(f"no behavioural baseline is written for unit {unit!r}")


def baseline_verilog(report, top=None):
    """``(module name, Verilog)`` of the behavioural baseline of a generated design.

    ``report`` is the design's ``report.json`` (it names the unit, its width, format,
    policy and ports). Raises :class:`BaselineUnavailable` for units without one.
    """
    unit = report.get("unit")
    top = top or f"{report['top']}_baseline"
    if unit in FLOAT_BASELINES:
        return top, FLOAT_BASELINES[unit](top, report.get("format", "e4m3"),
                                          report.get("policy", "torch"))
    ports = {k: (v["dir"], v["width"]) for k, v in report["ports"].items()
             if k not in ("valid_in", "valid_out")}
    body = _block_body(unit, report.get("width", 1), ports)
    return top, (f"// {top}: behavioural {unit} (width {report.get('width', 1)}), the baseline "
                 f"for spikegate's neuron-built one.\n"
                 f"module {top} (\n{_ports_decl(ports)}\n);\n{body}endmodule\n")
