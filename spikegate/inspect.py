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

import json
from collections import Counter, defaultdict
from html import escape
from pathlib import Path

from .gen.netlist import CONST0, CONST1, Netlist
from .hdl.pipeline import cut_levels, stage_of_level

__all__ = ["analyze", "format_text", "write_plots", "schematic_svg", "SCHEMATIC_LIMIT",
           "inspect_directory", "design_netlists"]

#: Netlists with more neurons than this get no schematic (it would be unreadable).
SCHEMATIC_LIMIT = 80


def _top_block(block):
    return block.split("/")[0] if block else "(top)"


def analyze(netlist: Netlist, stages: int = 0) -> dict:
    """The structure report of *netlist* cut into *stages* pipeline stages (JSON-ready)."""
    level = netlist.levels()
    names = netlist.net_names()
    depth = netlist.depth()
    cuts = cut_levels(depth, stages)
    by_out = {n.out: n for n in netlist.neurons}

    # -- stages: neurons and the register bits each cut carries
    home = {n: 0 for n in netlist.input_nets()}
    per_stage = Counter()
    for n in netlist.neurons:
        s = stage_of_level(level[n.out], cuts)
        home[n.out] = s
        per_stage[s] += 1
    last_use = dict(home)
    for n in netlist.neurons:
        s = home[n.out]
        for i in n.inputs:
            if i in home:
                last_use[i] = max(last_use[i], s)
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
        rows = defaultdict(lambda: {"neurons": 0, "synapses": 0, "levels": [None, None]})
        members = defaultdict(set)
        for n in netlist.neurons:
            b = key(n.block)
            r = rows[b]
            r["neurons"] += 1
            r["synapses"] += n.fanin
            lv = level[n.out]
            r["levels"][0] = lv if r["levels"][0] is None else min(r["levels"][0], lv)
            r["levels"][1] = lv if r["levels"][1] is None else max(r["levels"][1], lv)
            members[b].add(n.out)
        # depth inside a block: the longest chain of the block's own neurons
        inner = {}
        for n in netlist.neurons:
            b = key(n.block)
            inner[n.out] = 1 + max((inner[i] for i in n.inputs
                                    if i in members[b] and i in inner), default=0)
        for b, r in rows.items():
            r["depth"] = max(inner[o] for o in members[b])
        order = sorted(rows, key=lambda b: (rows[b]["levels"][0], b))
        return [{"block": b, **rows[b]} for b in order]

    # -- histograms
    fanin = Counter(n.fanin for n in netlist.neurons)
    weights = Counter(abs(w) for n in netlist.neurons for w in n.weights)

    # -- cones of the output bits
    cone_of = {}
    for n in netlist.neurons:
        neurons, inputs = {n.out}, set()
        for i in n.inputs:
            if i in cone_of:
                neurons |= cone_of[i][0]
                inputs |= cone_of[i][1]
            elif i not in (CONST0, CONST1):
                inputs.add(i)
        cone_of[n.out] = (frozenset(neurons), frozenset(inputs))
    outputs = []
    for bus, nets in netlist.outputs.items():
        for bit, net in enumerate(nets):
            if net in cone_of:
                cone_neurons, cone_inputs = cone_of[net]
                blocks = Counter(_top_block(by_out[o].block) for o in cone_neurons)
                driver = names[net]
            else:
                cone_neurons, cone_inputs = frozenset(), frozenset({net} - {CONST0, CONST1})
                blocks, driver = Counter(), names[net]
            outputs.append({
                "bit": f"{bus}[{bit}]",
                "driver": driver,
                "level": level.get(net, 0),
                "cone_neurons": len(cone_neurons),
                "cone_blocks": dict(sorted(blocks.items(), key=lambda kv: (-kv[1], kv[0]))),
                "inputs": _ranges(sorted((names[i] for i in cone_inputs), key=_bit_key)),
            })
    return {
        "top": netlist.name,
        "neurons": len(netlist.neurons),
        "synapses": sum(n.fanin for n in netlist.neurons),
        "depth": depth,
        "stages": stages,
        "cuts": cuts,
        "neurons_per_level": [sum(1 for n in netlist.neurons if level[n.out] == lv)
                              for lv in range(1, depth + 1)],
        "per_stage": stage_rows,
        "pipeline_registers": sum(regs_after.values()) if stages else 0,
        "blocks": block_rows(_top_block),
        "block_paths": block_rows(lambda b: b or "(top)"),
        "fanin_histogram": {str(k): v for k, v in sorted(fanin.items())},
        "weight_histogram": {str(k): v for k, v in sorted(weights.items())},
        "stage_blocks": stage_blocks(netlist, stages),
        "outputs": outputs,
    }


def _bit_key(name):
    bus, _, rest = name.partition("[")
    return (bus, int(rest.rstrip("]")) if rest else -1)


def _ranges(bits):
    """``["a[0]", "a[1]", "a[2]", "b[5]"]`` -> ``["a[0:2]", "b[5]"]``."""
    out, run = [], []

    def flush():
        if run:
            bus, lo, hi = run[0][0], run[0][1], run[-1][1]
            out.append(f"{bus}[{lo}]" if lo == hi else f"{bus}[{lo}:{hi}]")
            run.clear()

    for name in bits:
        bus, idx = _bit_key(name)
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
    level = netlist.levels()
    cuts = cut_levels(netlist.depth(), stages)
    out = defaultdict(Counter)
    for n in netlist.neurons:
        out[str(stage_of_level(level[n.out], cuts))][_top_block(n.block)] += 1
    return {s: dict(c) for s, c in sorted(out.items())}


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

def design_netlists(directory):
    """``[(netlist, stages)]`` of a design directory: its netlist, or for a time-multiplexed
    design every layer datapath (``datapath.json``)."""
    from .report import load_design, load_report
    report = load_report(directory)
    if report.get("form") != "time-multiplexed":
        design, _ = load_design(directory)
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
