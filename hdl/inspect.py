"""What a generated design is made of: ``spikegate inspect DIR``.

Everything here is read from the netlist (``netlist.json``) and the pipeline cut of the
report, the same single source of truth the RTL comes from:

* neurons per pipeline stage (and the pipeline register bits after each stage);
* neurons, synapses, level span and internal depth per functional block (the builder's
  block path, e.g. ``round`` or ``mul/align``), for top-level blocks and full paths;
* fan-in and |weight| histograms;
* for every output bit its cone: how many neurons it depends on, its level, which blocks
  contribute, and which input bits reach it.

:func:`write_plots` draws neurons per level and the per-stage diagram (PNG, matplotlib) and
:func:`schematic_svg` a schematic of a small netlist (plain SVG, no graphviz).
"""

from __future__ import annotations

import gc
import json
from collections import Counter, defaultdict
from contextlib import contextmanager
from html import escape
from pathlib import Path

from ..gen.netlist import CONST0, CONST1, Netlist
from .pipeline import cut_levels, stage_of_level

__all__ = ["analyze", "format_text", "write_plots", "schematic_svg", "SCHEMATIC_LIMIT",
           "inspect_directory", "design_netlists"]

#: Netlists with more neurons than this get no schematic (it would be unreadable).
SCHEMATIC_LIMIT = 80


def top_block(block):
    return block.split("/")[0] if block else "(top)"


def analyze(netlist: Netlist, stages: int = 0) -> dict:
    """The structure report of *netlist* cut into *stages* pipeline stages (JSON-ready).

    Linear in the netlist's size: every figure is one pass over the neurons, except the
    output cones, which are one vectorised reverse pass over the synapses per 64 output bits
    (:func:`_output_cones`; no set of nets is kept per neuron).
    """
    with _gc_paused():
        return _analyze(netlist, stages)


def _analyze(netlist, stages):
    neurons = netlist.neurons
    level = netlist.levels()
    names = netlist.net_names()
    depth = max((level[n] for bus in netlist.outputs.values() for n in bus), default=0)
    cuts = cut_levels(depth, stages)
    stage_at = _stage_lookup(cuts)

    # -- stages: neurons and the register bits each cut carries
    home = {n: 0 for n in netlist.input_nets()}
    per_stage = Counter()
    for n in neurons:
        s = stage_at(level[n.out])
        home[n.out] = s
        per_stage[s] += 1
    last_use = dict(home)
    for n in neurons:
        s = home[n.out]
        for i in n.inputs:
            if i in home and last_use[i] < s:
                last_use[i] = s
    for nets in netlist.outputs.values():
        for i in nets:
            if i in home:
                last_use[i] = max(last_use[i], stages)
    regs_after = Counter()
    for net, s in home.items():
        for cut in range(s, last_use[net]):
            regs_after[cut] += 1
    stage_rows = []
    for s in range(max(stages, 1) if stages else 1):
        lo = (cuts[s - 1] + 1) if s >= 1 else 1
        hi = cuts[s] if stages else depth
        stage_rows.append({"stage": s, "levels": [lo, hi], "neurons": per_stage.get(s, 0),
                           "registers_after": regs_after.get(s, 0) if stages else 0})

    # -- blocks: top-level and full paths
    def block_rows(key):
        rows = defaultdict(lambda: {"neurons": 0, "synapses": 0, "levels": [None, None],
                                    "depth": 0})
        # depth inside a block: the longest chain of the block's own neurons
        keys, block_of, inner = {}, {}, {}
        for n in neurons:
            b = keys.get(n.block)
            if b is None:
                b = keys[n.block] = key(n.block)
            r = rows[b]
            r["neurons"] += 1
            r["synapses"] += len(n.inputs)
            lv = level[n.out]
            lvs = r["levels"]
            if lvs[0] is None or lv < lvs[0]:
                lvs[0] = lv
            if lvs[1] is None or lv > lvs[1]:
                lvs[1] = lv
            d = 0
            for i in n.inputs:
                if block_of.get(i) == b and inner[i] > d:
                    d = inner[i]
            d += 1
            block_of[n.out] = b
            inner[n.out] = d
            if d > r["depth"]:
                r["depth"] = d
        order = sorted(rows, key=lambda b: (rows[b]["levels"][0], b))
        return [{"block": b, "neurons": rows[b]["neurons"], "synapses": rows[b]["synapses"],
                 "levels": rows[b]["levels"], "depth": rows[b]["depth"]} for b in order]

    # -- histograms
    fanin = Counter(n.fanin for n in neurons)
    weights = Counter(abs(w) for n in neurons for w in n.weights)
    per_level = Counter(level[n.out] for n in neurons)

    return {
        "top": netlist.name,
        "neurons": len(neurons),
        "synapses": sum(n.fanin for n in neurons),
        "depth": depth,
        "stages": stages,
        "cuts": cuts,
        "neurons_per_level": [per_level.get(lv, 0) for lv in range(1, depth + 1)],
        "per_stage": stage_rows,
        "pipeline_registers": sum(regs_after.values()) if stages else 0,
        "blocks": block_rows(top_block),
        "block_paths": block_rows(lambda b: b or "(top)"),
        "fanin_histogram": {str(k): v for k, v in sorted(fanin.items())},
        "weight_histogram": {str(k): v for k, v in sorted(weights.items())},
        "stage_blocks": _stage_blocks(netlist, level, stage_at),
        "outputs": _output_cones(netlist, level, names),
    }


def _stage_lookup(cuts):
    """``level -> stage`` (:func:`stage_of_level`), memoised per level."""
    memo = {}

    def stage_at(lv):
        s = memo.get(lv)
        if s is None:
            s = memo[lv] = stage_of_level(lv, cuts)
        return s
    return stage_at


def _output_cones(netlist: Netlist, level, names) -> list[dict]:
    """For every output bit: driver, level, cone size, contributing top blocks, input bits.

    The cones are bitsets over the output bits, 64 at a time: one ``uint64`` word per net,
    propagated from the outputs back to the inputs level by level (numpy, one gather and
    one segmented OR per level). Time O(synapses * ceil(output bits / 64)), memory
    O(nets + synapses); a net's word says which of the 64 output bits it reaches.
    """
    import numpy as np

    neurons = netlist.neurons
    bits = [(f"{bus}[{b}]", net) for bus, nets in netlist.outputs.items()
            for b, net in enumerate(nets)]
    if not bits:
        return []
    size = max([netlist.net_count, 2] + [net + 1 for _, net in bits])
    outs = np.fromiter((n.out for n in neurons), dtype=np.int64, count=len(neurons))
    fanins = np.fromiter((n.fanin for n in neurons), dtype=np.int64, count=len(neurons))
    lv_of = np.fromiter((level[n.out] for n in neurons), dtype=np.int64, count=len(neurons))
    src = np.fromiter((i for n in neurons for i in n.inputs), dtype=np.int64,
                      count=int(fanins.sum()))
    dst = np.repeat(outs, fanins)
    dst_lv = np.repeat(lv_of, fanins)
    # synapses grouped by the reading neuron's level (deepest first), sources sorted in each
    order = np.lexsort((src, -dst_lv))
    src, dst, dst_lv = src[order], dst[order], dst_lv[order]
    plan = []  # per level: (dst of its synapses, segment starts, distinct sources)
    if len(src):
        cut = np.flatnonzero(np.diff(dst_lv)) + 1
        for a, b in zip(np.r_[0, cut], np.r_[cut, len(src)]):
            s = src[a:b]
            starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
            plan.append((dst[a:b], starts, s[starts]))

    # neurons by top block (for the per-block counts), the input bits
    block_names = sorted({top_block(n.block) for n in neurons})
    block_id = {b: k for k, b in enumerate(block_names)}
    bid = np.fromiter((block_id[top_block(n.block)] for n in neurons), dtype=np.int64,
                      count=len(neurons))
    by_block = np.argsort(bid, kind="stable")
    block_outs = outs[by_block]
    block_starts = np.searchsorted(bid[by_block], np.arange(len(block_names)))
    block_ends = np.r_[block_starts[1:], len(neurons)].astype(np.int64)
    input_nets = np.array(sorted(netlist.input_nets() - {CONST0, CONST1}), dtype=np.int64)

    def columns(words, width):
        """``words`` (uint64) as a (len, width) 0/1 matrix, column k = bit k."""
        as_bytes = np.ascontiguousarray(words.astype("<u8")).view(np.uint8)
        return np.unpackbits(as_bytes.reshape(-1, 8), axis=1, bitorder="little")[:, :width]

    result = []
    for base in range(0, len(bits), 64):
        chunk = bits[base:base + 64]
        mask = np.zeros(size, dtype=np.uint64)
        for k, (_, net) in enumerate(chunk):
            mask[net] |= np.uint64(1 << k)
        for d, starts, usrc in plan:
            mask[usrc] |= np.bitwise_or.reduceat(mask[d], starts)
        width = len(chunk)
        per_block = np.zeros((len(block_names), width), dtype=np.int64)
        if len(neurons):
            reached = columns(mask[block_outs], width)
            for j, (a, b) in enumerate(zip(block_starts, block_ends)):
                per_block[j] = reached[a:b].sum(axis=0, dtype=np.int64)
            del reached
        cone_sizes = per_block.sum(axis=0)
        reach = columns(mask[input_nets], width) if len(input_nets) else None
        for k, (bit, net) in enumerate(chunk):
            counts = {block_names[j]: int(c) for j, c in enumerate(per_block[:, k]) if c}
            inputs = ([] if reach is None else
                      [names[int(i)] for i in input_nets[np.flatnonzero(reach[:, k])]])
            result.append({
                "bit": bit,
                "driver": names[net],
                "level": level.get(net, 0),
                "cone_neurons": int(cone_sizes[k]),
                "cone_blocks": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
                "inputs": index_ranges(sorted(inputs, key=bit_key)),
            })
    return result


def bit_key(name):
    bus, _, rest = name.partition("[")
    return (bus, int(rest.rstrip("]")) if rest else -1)


def index_ranges(bits):
    """``["a[0]", "a[1]", "a[2]", "b[5]"]`` -> ``["a[0:2]", "b[5]"]``."""
    out, run = [], []

    def flush():
        if run:
            bus, lo, hi = run[0][0], run[0][1], run[-1][1]
            out.append(f"{bus}[{lo}]" if lo == hi else f"{bus}[{lo}:{hi}]")
            run.clear()

    for name in bits:
        bus, idx = bit_key(name)
        if run and run[-1][0] == bus and run[-1][1] == idx - 1:
            run.append((bus, idx))
        else:
            flush()
            run.append((bus, idx))
    flush()
    return out


def _hist_line(hist, width=40):
    total = max(hist.values(), default=1)
    return [f"  {k:>6} {v:6d} {'#' * max(1, round(width * v / total))}"
            for k, v in hist.items()]


def format_text(info: dict, *, max_outputs=64) -> str:
    """The inspect report as plain text (what ``spikegate inspect`` prints)."""
    lines = [f"{info['top']}: {info['neurons']} neurons, {info['synapses']} synapses, "
             f"depth {info['depth']} neuron levels, "
             + (f"{info['stages']} pipeline stages (cuts after levels "
                f"{', '.join(map(str, info['cuts']))}), {info['pipeline_registers']} "
                f"pipeline register bits" if info["stages"] else "combinational"), ""]
    lines.append("per pipeline stage:")
    lines.append("  stage  levels   neurons  registers after")
    for r in info["per_stage"]:
        lines.append(f"  {r['stage']:5d}  {r['levels'][0]:>2}-{r['levels'][1]:<4} "
                     f"{r['neurons']:8d}  {r['registers_after']:15d}")
    lines += ["", "per functional block (in level order):",
              "  block                 neurons  synapses  levels   depth"]
    for r in info["blocks"]:
        lines.append(f"  {r['block']:<20} {r['neurons']:8d} {r['synapses']:9d}  "
                     f"{r['levels'][0]:>2}-{r['levels'][1]:<4} {r['depth']:5d}")
    if len(info["block_paths"]) > len(info["blocks"]):
        lines += ["", "per block path:"]
        for r in info["block_paths"]:
            lines.append(f"  {r['block']:<28} {r['neurons']:6d} neurons, levels "
                         f"{r['levels'][0]}-{r['levels'][1]}, depth {r['depth']}")
    lines += ["", "fan-in histogram (synapses per neuron: neurons):"]
    lines += _hist_line(info["fanin_histogram"])
    lines += ["", "|weight| histogram (weight: synapses):"]
    lines += _hist_line(info["weight_histogram"])
    lines += ["", "where each output bit comes from (driver, level, cone size, blocks, inputs):"]
    for o in info["outputs"][:max_outputs]:
        blocks = ", ".join(f"{b} {c}" for b, c in o["cone_blocks"].items()) or "-"
        lines.append(f"  {o['bit']:<10} <- {o['driver']:<14} level {o['level']:>2}, "
                     f"{o['cone_neurons']:4d} neurons ({blocks}); inputs "
                     f"{' '.join(o['inputs']) or 'none'}")
    if len(info["outputs"]) > max_outputs:
        lines.append(f"  ... {len(info['outputs']) - max_outputs} more output bits "
                     f"(see inspect.json)")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- pictures

def write_plots(info: dict, directory) -> list[Path]:
    """``levels.png`` (neurons per level, coloured by stage) and ``stages.png``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    per_level = info["neurons_per_level"]
    cuts = info["cuts"]
    colours = plt.get_cmap("tab10")

    fig, ax = plt.subplots(figsize=(max(5, 0.35 * len(per_level) + 2), 3.2), dpi=110)
    stage_of = [sum(1 for c in cuts if c < lv) for lv in range(1, len(per_level) + 1)]
    ax.bar(range(1, len(per_level) + 1), per_level,
           color=[colours(s % 10) for s in stage_of])
    for c in cuts[:-1]:
        ax.axvline(c + 0.5, color="k", linestyle="--", linewidth=1)
    ax.set_xlabel("neuron level")
    ax.set_ylabel("neurons")
    ax.set_title(f"{info['top']}: neurons per level"
                 + (f" ({info['stages']} stages, dashed: registers)" if info["stages"] else ""),
                 fontsize=9)
    ax.set_xticks(range(1, len(per_level) + 1))
    fig.tight_layout()
    path = directory / "levels.png"
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    written.append(path)

    # per-stage diagram: one box per stage, its height the neurons, blocks stacked inside
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(info["per_stage"]) + 2), 3.6), dpi=110)
    blocks = [b["block"] for b in info["blocks"]]
    # neurons per (stage, top block), from the levels of each block's neurons
    counts = info["stage_blocks"]
    x = range(len(info["per_stage"]))
    bottom = [0] * len(info["per_stage"])
    for bi, b in enumerate(blocks):
        heights = [counts.get(str(s), {}).get(b, 0) for s in x]
        if not any(heights):
            continue
        ax.bar(list(x), heights, bottom=bottom, color=colours(bi % 10), label=b,
               edgecolor="white", width=0.6)
        bottom = [p + h for p, h in zip(bottom, heights)]
    for s, r in enumerate(info["per_stage"]):
        ax.text(s, bottom[s], f"{r['neurons']} neurons\nlevels {r['levels'][0]}-{r['levels'][1]}",
                ha="center", va="bottom", fontsize=7)
        if info["stages"]:
            ax.text(s + 0.5, 0, f"{r['registers_after']}\nregs", ha="center", va="bottom",
                    fontsize=7, color="dimgray")
    ax.set_xticks(list(x))
    ax.set_xticklabels([f"stage {s}" for s in x])
    ax.set_ylabel("neurons")
    ax.set_ylim(0, max(bottom, default=1) * 1.3 + 1)
    ax.set_title(f"{info['top']}: per-stage diagram", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    path = directory / "stages.png"
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    written.append(path)
    return written


def stage_blocks(netlist: Netlist, stages: int) -> dict:
    """``{stage: {top block: neurons}}`` (keys as strings, JSON-ready)."""
    return _stage_blocks(netlist, netlist.levels(),
                         _stage_lookup(cut_levels(netlist.depth(), stages)))


def _stage_blocks(netlist, level, stage_at):
    out = defaultdict(Counter)
    for n in netlist.neurons:
        out[stage_at(level[n.out])][top_block(n.block)] += 1
    return {s: dict(c) for s, c in sorted((str(k), c) for k, c in out.items())}


def schematic_svg(netlist: Netlist, *, limit=SCHEMATIC_LIMIT) -> str:
    """A left-to-right schematic of a small netlist as SVG text.

    Columns are neuron levels (inputs on the left, output ports on the right); each neuron
    is a box showing its name and threshold test, each synapse a line labelled with its
    weight. Raises ValueError above *limit* neurons.
    """
    if len(netlist.neurons) > limit:
        raise ValueError(f"{netlist.name} has {len(netlist.neurons)} neurons: a schematic is "
                         f"drawn for at most {limit}; inspect a smaller block (e.g. --width 2)")
    level = netlist.levels()
    names = netlist.net_names()
    depth = netlist.depth()
    columns = defaultdict(list)
    for bus, nets in netlist.inputs.items():
        columns[0].extend(nets)
    for n in netlist.neurons:
        columns[level[n.out]].append(n.out)
    by_out = {n.out: n for n in netlist.neurons}
    pos = {}
    box_w, box_h, col_w, row_h, margin = 150, 38, 230, 58, 30
    for i, net in enumerate(columns[0]):
        pos[net] = (margin, margin + i * row_h)
    for lv in range(1, depth + 1):
        nets = columns[lv]
        # order by the mean row of the inputs (fewer crossings)
        nets.sort(key=lambda o: sum(pos[i][1] for i in by_out[o].inputs if i in pos)
                  / max(1, sum(1 for i in by_out[o].inputs if i in pos)))
        for i, net in enumerate(nets):
            pos[net] = (margin + lv * col_w, margin + i * row_h)
    out_x = margin + (depth + 1) * col_w
    out_rows = [(f"{bus}[{i}]", net) for bus, nets in netlist.outputs.items()
                for i, net in enumerate(nets)]
    height = margin * 2 + row_h * max(max((len(c) for c in columns.values()), default=1),
                                      len(out_rows)) + 20
    width = out_x + 120
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="11">',
             f'<title>{escape(netlist.name)}: neuron schematic</title>',
             '<rect width="100%" height="100%" fill="white"/>']

    def anchor_out(net):
        x, y = pos[net]
        return (x + (60 if net in columns[0] and net not in by_out else box_w), y + box_h / 2)

    for n in netlist.neurons:
        x, y = pos[n.out]
        for src, w in zip(n.inputs, n.weights):
            if src in (CONST0, CONST1):
                continue
            sx, sy = anchor_out(src)
            colour = "#1f77b4" if w > 0 else "#d62728"
            parts.append(f'<line x1="{sx:.0f}" y1="{sy:.0f}" x2="{x}" y2="{y + box_h / 2:.0f}" '
                         f'stroke="{colour}" stroke-opacity="0.6"/>')
            lx, ly = x - 18, y + box_h / 2 + (sy - y - box_h / 2) * 18 / max(1, x - sx)
            parts.append(f'<text x="{lx:.0f}" y="{ly:.0f}" fill="{colour}" '
                         f'text-anchor="end" font-size="9">{w:+d}</text>')
    for net in columns[0]:
        x, y = pos[net]
        parts.append(f'<rect x="{x}" y="{y + 8}" width="60" height="22" rx="11" '
                     f'fill="#eeeeee" stroke="#555"/>')
        parts.append(f'<text x="{x + 30}" y="{y + 23}" text-anchor="middle">'
                     f'{escape(names[net])}</text>')
    for n in netlist.neurons:
        x, y = pos[n.out]
        test = f"{n.bias:+d} + Σ ≥ {n.threshold}" if n.bias else f"Σ ≥ {n.threshold}"
        parts.append(f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" '
                     f'fill="#fff7e0" stroke="#b58900"/>')
        parts.append(f'<text x="{x + box_w / 2}" y="{y + 15}" text-anchor="middle" '
                     f'font-weight="bold">{escape(n.name)}</text>')
        parts.append(f'<text x="{x + box_w / 2}" y="{y + 30}" text-anchor="middle" '
                     f'font-size="10">{escape(test)}</text>')
    for i, (label, net) in enumerate(out_rows):
        y = margin + i * row_h
        if net in pos:
            sx, sy = anchor_out(net)
            parts.append(f'<line x1="{sx:.0f}" y1="{sy:.0f}" x2="{out_x}" y2="{y + 19}" '
                         f'stroke="#555"/>')
        else:
            parts.append(f'<text x="{out_x - 10}" y="{y + 23}" text-anchor="end">'
                         f'{escape(names.get(net, "?"))}</text>')
        parts.append(f'<rect x="{out_x}" y="{y + 8}" width="70" height="22" rx="3" '
                     f'fill="#e0f0ff" stroke="#555"/>')
        parts.append(f'<text x="{out_x + 35}" y="{y + 23}" text-anchor="middle">'
                     f'{escape(label)}</text>')
    for lv in range(1, depth + 1):
        parts.append(f'<text x="{margin + lv * col_w + box_w / 2}" y="{height - 8}" '
                     f'text-anchor="middle" fill="#888">level {lv}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- directory

@contextmanager
def _gc_paused():
    """No cyclic garbage collection inside: loading or analysing a big netlist makes
    millions of small containers that cannot form cycles, and Python's collector would
    rescan all of them again and again (a third of the time of loading one)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def design_netlists(directory):
    """``[(netlist, stages)]`` of a design directory: its netlist, or for a time-multiplexed
    design every layer datapath (``datapath.json``)."""
    from .report import load_design, load_report
    report = load_report(directory)
    with _gc_paused():
        if report.get("form") != "time-multiplexed":
            design, _ = load_design(directory, check_verilog=False)
            return [(design.netlist, design.stages)]
        specs = json.loads((Path(directory) / "datapath.json").read_text())
        return [(Netlist.from_dict(d["netlist"]), d["stages"]) for d in specs.values()]


def inspect_directory(directory, *, plots=True, schematic=None):
    """Analyse the design in *directory*; write ``inspect/`` files. Returns (infos, paths):
    one info per netlist (a time-multiplexed design has one per layer datapath, written
    under ``inspect/<netlist>/``).

    *schematic*: True to require one, False for none, None for "if the netlist is small".
    """
    nets = design_netlists(directory)
    root = Path(directory) / "inspect"
    infos, written = [], []
    for netlist, stages in nets:
        info = analyze(netlist, stages)
        out = root if len(nets) == 1 else root / netlist.name
        out.mkdir(parents=True, exist_ok=True)
        if plots:
            written += write_plots(info, out)
        small = len(netlist.neurons) <= SCHEMATIC_LIMIT
        if schematic or (schematic is None and small):
            path = out / "schematic.svg"
            path.write_text(schematic_svg(netlist))
            written.append(path)
        path = out / "inspect.json"
        path.write_text(json.dumps(info, indent=1) + "\n")
        written.append(path)
        infos.append(info)
    return infos, written
