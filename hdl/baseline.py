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
"""

from __future__ import annotations

from ..golden.fp8 import check_policy, get_format

__all__ = ["baseline_verilog", "fp8_mul_verilog", "fp8_add_verilog", "BaselineUnavailable"]


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


def fp8_mul_verilog(top, fmt="e4m3", policy="torch"):
    """Behavioural Verilog of an FP8 multiplier ``y = a * b`` (ports a[8], b[8] -> y[8])."""
    fmt, policy = get_format(fmt), check_policy(policy)
    mw, bias = fmt.man_bits, fmt.bias
    n = mw + 1                 # significand bits
    pw = 2 * n                 # product bits
    pad = n + 1                # room below the product for the subnormal right shift
    tw = pw + pad
    lzw = pw.bit_length()
    return f"""\
{_fp8_head(top, fmt, policy, "multiplier")}
    wire s = a[7] ^ b[7];
    wire [{pw - 1}:0] p = m_a * m_b;

    // leading zeros of the significand product
{_leading_zeros("p", pw, lzw)}
    // biased exponent of the leading one; below 1 the result is subnormal
    wire signed [9:0] e = $signed({{6'd0, e_a}}) + $signed({{6'd0, e_b}}) - 10'sd{bias - 1}
                          - $signed({{{10 - lzw}'d0, lz}});
    wire subnormal = (e < 10'sd1);
    wire [9:0] rs_full = 10'sd1 - e;
    wire [{(pad).bit_length() - 1}:0] rs = subnormal ? ((rs_full > {pad}) ? {pad} : rs_full) : 0;
    wire [{pw - 1}:0] norm = p << lz;
    wire [{tw - 1}:0] t = {{norm, {pad}'d0}} >> rs;
    wire [{mw}:0] m = t[{tw - 1}:{tw - n}];
    wire g = t[{tw - n - 1}];
    wire sticky = |t[{tw - n - 2}:0];
    wire up = g & (sticky | m[0]);
    // (E - 1) << MW plus the significand: the hidden bit carries into the exponent field,
    // and a subnormal (hidden bit 0, E = 1) gets field 0; rounding may carry on up.
    wire [9:0] e1 = subnormal ? 10'd0 : e - 10'sd1;
    wire [10:0] code = {{e1, {mw}'d0}} + m + up;

    always @* begin
        if (nan_a | nan_b | ((inf_a | inf_b) & (zero_a | zero_b)))
            y = 8'h7F;
        else if (inf_a | inf_b)
            y = {_overflow_expr(fmt, policy, "s")};
        else if (zero_a | zero_b)
            y = {{s, 7'd0}};
        else if (code > 11'd{fmt.max_code})
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
    if unit in ("fp8-mul", "fp8-add"):
        fn = fp8_mul_verilog if unit == "fp8-mul" else fp8_add_verilog
        return top, fn(top, report.get("format", "e4m3"), report.get("policy", "torch"))
    ports = {k: (v["dir"], v["width"]) for k, v in report["ports"].items()
             if k not in ("valid_in", "valid_out")}
    body = _block_body(unit, report.get("width", 1), ports)
    return top, (f"// {top}: behavioural {unit} (width {report.get('width', 1)}), the baseline "
                 f"for spikegate's neuron-built one.\n"
                 f"module {top} (\n{_ports_decl(ports)}\n);\n{body}endmodule\n")
