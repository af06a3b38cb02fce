"""Netlist -> structural Verilog, one continuous assignment per neuron.

Each neuron is one line an engineer can read, named after the neuron::

    // round_b3 (round): fires when 4*~a[3] + 2*b[1] + mul_q0 >= 5
    wire round_b3 = ((~a[3] ? 3'd4 : 3'd0) + (b[1] ? 3'd2 : 3'd0) + (mul_q0 ? 3'd1 : 3'd0)) >= 3'd5;

It is the same membrane as :func:`~spikegate.hdl.neuron.threshold_fire` (the Amaranth
elaboration, :class:`~spikegate.hdl.elaborate.NetlistComponent`): positive weights on
plain or inverted spikes, an unsigned sum that cannot wrap, one comparison. The sum of a
wide neuron (more than ``PLANE_TERMS`` synapses) is written as bit planes
(:func:`_bit_planes`): spikes whose weights are distinct powers of two share one
concatenation, so a comparator over a binary-weighted bus is one operand, not one ``?:``
and one adder per synapse (the d_model-8 transformer processor: Icarus compiles it in
38 s instead of 55, into a 57 MB image instead of 115); a threshold on a 10-bit code::

    wire x_ge_300 = ({x[9], x[8], x[7], x[6], x[5], x[4], x[3], x[2], x[1], x[0]}) >= 10'd300;

Writing it directly, instead of through Amaranth's Yosys backend (which splits a neuron of
fan-in F into about 2F cells), keeps each neuron a single expression: Icarus simulates it
about 4x faster, and the text is the netlist. Pipeline registers follow the same stage plan
(:mod:`~spikegate.hdl.pipeline`) and are named ``<net>_p<stage>``; ``valid`` travels with
the data and is cleared by the synchronous, active-high ``rst``.
"""

from __future__ import annotations

from ..gen.netlist import CONST0, CONST1, Netlist
from .neuron import unsigned_form
from .pipeline import cut_levels, stage_of_level

__all__ = ["netlist_to_verilog"]

#: A neuron line longer than this is wrapped, ``WRAP_TERMS`` terms per line (simulators'
#: lexers have line buffers: Icarus stops at about 32 kB).
MAX_LINE, WRAP_TERMS = 1000, 12
#: A sum of more terms is written as nested parenthesised groups of ``WRAP_TERMS``: a flat
#: chain of thousands of ``+`` is a parse tree thousands deep, beyond Yosys's stack.
GROUP_TERMS = 64
#: A neuron of more synapses than this has its sum written as bit planes (:func:`_bit_planes`);
#: a smaller one (every neuron of a lean unit, fan-in <= 4) one ``?:`` per synapse, the
#: form its synthesis figures were measured on (Yosys/ABC map the two forms of a small
#: neuron to LUT counts up to 10% apart, either way round)
PLANE_TERMS = 8


def _grouped(terms):
    """The lines of ``terms`` joined by ``+`` in nested parenthesised groups of
    ``WRAP_TERMS``, one line per innermost group."""
    groups = [["(" + " + ".join(terms[i:i + WRAP_TERMS]) + ")"]
              for i in range(0, len(terms), WRAP_TERMS)]
    while len(groups) > 1:
        nxt = []
        for i in range(0, len(groups), WRAP_TERMS):
            lines = []
            for j, g in enumerate(groups[i:i + WRAP_TERMS]):
                lines += [("+ " if j else "") + g[0]] + g[1:]
            lines[0] = "(" + lines[0]
            lines[-1] += ")"
            nxt.append(lines)
        groups = nxt
    return groups[0]


def _wrapped(first, parts, joiner, indent, per=WRAP_TERMS):
    """``first + joiner.join(parts)``, on several lines (``per`` parts each) when it is long."""
    line = first + joiner.join(parts)
    if len(line) <= MAX_LINE:
        return [line]
    rows = [joiner.join(parts[i:i + per]) for i in range(0, len(parts), per)]
    return [first + rows[0]] + [indent + joiner.lstrip() + r for r in rows[1:]]


def _bit_planes(terms, width):
    """``sum(w * spike)`` as a few ``width``-bit concatenations whose sum is the same.

    Each weight is split into its binary digits; the ``k``-th concatenation holds, at bit
    ``j``, the ``k``-th spike whose weight has digit ``j`` (else ``1'b0``). A comparator
    over a binary-weighted bus (weights 1, 2, 4, ...) is then one operand instead of one
    ``?:`` and one adder per synapse: Icarus elaborates and Verilator compiles it several
    times faster, and synthesis sees the same sum.
    """
    planes = []  # planes[k][j]: spike at bit j of operand k
    fill = [0] * width
    for spike, w in terms:
        for j in range(w.bit_length()):
            if w >> j & 1:
                if fill[j] == len(planes):
                    planes.append([None] * width)
                planes[fill[j]][j] = spike
                fill[j] += 1
    out = []
    for bits in planes:
        parts, zeros = [], 0
        for spike in reversed(bits):
            if spike is None:
                zeros += 1
                continue
            if zeros:
                parts.append(f"{zeros}'d0")
                zeros = 0
            parts.append(spike)
        if zeros:
            parts.append(f"{zeros}'d0")
        out.append("{" + ", ".join(parts) + "}")
    return out


def _describe(neuron, ref):
    parts = []
    for i, w in zip(neuron.inputs, neuron.weights):
        coeff = "" if abs(w) == 1 else f"{abs(w)}*"
        parts.append(("- " if w < 0 else "+ ") + coeff + ref(i))
    text = " ".join(parts).lstrip("+ ")
    if neuron.bias:
        text += f" {'+' if neuron.bias > 0 else '-'} {abs(neuron.bias)}"
    return f"fires when {text} >= {neuron.threshold}"


def netlist_to_verilog(netlist: Netlist, *, top: str, stages=0, valid=True, header=""):
    """The Verilog text of ``netlist`` as module ``top`` (deterministic)."""
    cuts = cut_levels(netlist.depth(), stages)
    valid = valid and stages > 0
    level = netlist.levels()
    names = netlist.net_names()
    home = {n: 0 for nets in netlist.inputs.values() for n in nets}
    home.update({n.out: stage_of_level(level[n.out], cuts) for n in netlist.neurons})

    def plain(net):
        return names[net].replace("[", "_").replace("]", "")

    registers = []  # (name, source) in creation order
    made = {}

    def ref(net, stage=None):
        """The net as seen by logic of ``stage`` (adding pipeline registers on demand)."""
        if net in (CONST0, CONST1):
            return f"1'b{net}"
        if stage is None or stage <= home[net]:
            return names[net]
        if (net, stage) not in made:
            made[(net, stage)] = f"{plain(net)}_p{stage}"
            registers.append((made[(net, stage)], ref(net, stage - 1)))
        return made[(net, stage)]

    # Buses keep a range even at width 1, so ``cin[0]`` is a legal bit-select.
    ports = [f"  input  wire [{len(n) - 1}:0] {bus}" for bus, n in netlist.inputs.items()]
    ports += [f"  output wire [{len(n) - 1}:0] {bus}" for bus, n in netlist.outputs.items()]
    if stages:
        ports[:0] = ["  input  wire clk", "  input  wire rst"]
    if valid:
        ports += ["  input  wire valid_in", "  output wire valid_out"]

    body, block = [], None
    for neuron in netlist.neurons:
        stage = home[neuron.out]
        if neuron.block != block:
            block = neuron.block
            body.append(f"\n  // ---- block {block or '(top)'} ----")
        words = f"{neuron.name}: {_describe(neuron, names.get)}".split(" ")
        body += _wrapped("  // ", words, " ", "  //   ", per=3 * WRAP_TERMS)
        terms, need, total = unsigned_form(neuron.weights, neuron.bias, neuron.threshold)
        if need <= 0 or need > total:  # cannot happen after simplification; stay correct
            body.append(f"  wire {neuron.name} = 1'b{int(need <= 0)};")
            continue
        width = total.bit_length()
        spikes = [(("~" if inverted else "") + ref(neuron.inputs[index], stage), w)
                  for index, inverted, w in terms]
        if len(terms) > PLANE_TERMS:
            sums = _bit_planes(spikes, width)
        else:
            sums = [f"({spike} ? {width}'d{w} : {width}'d0)" for spike, w in spikes]
        if len(sums) > GROUP_TERMS:
            body += [f"  wire {neuron.name} = ("] + [f"      {g}" for g in _grouped(sums)]
            body.append(f"      ) >= {width}'d{need};")
            continue
        sums[-1] += f") >= {width}'d{need};"
        body += _wrapped(f"  wire {neuron.name} = (", sums, " + ", "      ")

    assigns = []
    for bus, nets in netlist.outputs.items():
        bits = [ref(n, stages if stages else None) for n in reversed(nets)]
        assigns.append(f"  assign {bus} = {{{', '.join(bits)}}};")

    read = {i for n in netlist.neurons for i in n.inputs} | \
        {n for nets in netlist.outputs.values() for n in nets}
    unused = [names[n] for nets in netlist.inputs.values() for n in nets if n not in read]

    out = [header.rstrip("\n")] if header else []
    out += ["`default_nettype none", f"module {top} (", ",\n".join(ports), ");"]
    out += body
    if registers or valid:
        out.append("\n  // ---- pipeline registers ----")
        out += [f"  reg {name};" for name, _ in registers]
        if registers:
            out.append("  always @(posedge clk) begin")
            out += [f"    {name} <= {source};" for name, source in registers]
            out.append("  end")
    if valid:
        out += [f"  reg valid_p{s};" for s in range(1, stages + 1)]
        out.append("  always @(posedge clk) begin")
        out.append("    if (rst) begin")
        out += [f"      valid_p{s} <= 1'b0;" for s in range(1, stages + 1)]
        out.append("    end else begin")
        out += [f"      valid_p{s} <= {'valid_in' if s == 1 else f'valid_p{s - 1}'};"
                for s in range(1, stages + 1)]
        out += ["    end", "  end", f"  assign valid_out = valid_p{stages};"]
    elif stages:
        out.append("  wire _unused_rst = rst;  // no valid pipeline to clear")
    out.append("\n  // ---- outputs ----")
    out += assigns
    if unused:
        out.append(f"  wire _unused_ok = &{{1'b0, {', '.join(unused)}}};  // inputs no output needs")
    out += ["endmodule", "`default_nettype wire", ""]
    return "\n".join(out)
