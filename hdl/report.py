"""The files ``generate`` writes beside the Verilog: ``report.md`` and the FuseSoC core.

``report.json`` (written by :meth:`spikegate.hdl.design.Design.write`, extended by
``spikegate synth``) is the machine-readable record; its schema is documented in the
README ("report.json schema"). ``report.md`` renders the same figures for people, plus the
per-stage and per-block tables of :mod:`spikegate.hdl.inspect`; ``synth`` re-renders it.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from .atomic import read_json, write_file

__all__ = ["load_report", "load_netlist", "load_design", "write_report_files", "report_markdown", "fusesoc_core",
           "generate_command", "stream_ports", "SCHEMA_VERSION"]

#: Bumped when a key of report.json changes meaning or disappears.
SCHEMA_VERSION = 1


def load_report(directory) -> dict:
    return read_json(Path(directory) / "report.json",
                     "point at a directory written by `spikegate generate`")


def load_netlist(directory):
    """``(netlist, report)`` of a spatial design directory, without Amaranth (the GPU
    machine's sweeps read only the netlist)."""
    from ..gen.netlist import Netlist
    directory = Path(directory)
    report = load_report(directory)
    if report.get("form") == "time-multiplexed":
        raise ValueError(f"{directory} holds a time-multiplexed design (no single netlist): "
                         f"its datapaths are in {directory / 'datapath.json'}")
    try:
        spec = json.loads((directory / "netlist.json").read_text())
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{exc.filename} is missing: point at a directory written by "
                                f"`spikegate generate`") from None
    netlist = Netlist.from_dict(spec)
    netlist.meta.update({k: report[k] for k in ("unit", "width", "variant", "format", "to",
                                                "policy", "n", "eps", "rounding", "out_format")
                          if k in report})
    return netlist, report


def load_design(directory, *, check_verilog=True):
    """A spatial design directory written by ``generate``: ``(Design, Verilog path)``."""
    from .design import Design
    directory = Path(directory)
    netlist, report = load_netlist(directory)
    design = Design(netlist, stages=report.get("stages", 0), top=report["top"],
                    backend=report.get("backend", "direct"))
    verilog = directory / report["verilog"]
    if check_verilog and design.backend == "direct" and verilog.exists() \
            and verilog.read_text() != design.verilog:
        raise ValueError(f"{verilog} is not the Verilog that netlist.json generates (edited "
                         f"by hand?): regenerate it with `spikegate generate ... --force`")
    return design, verilog


def write_report_files(directory, report: dict):
    """Rewrite ``report.json`` and ``report.md`` of a design directory (each atomically)."""
    directory = Path(directory)
    info = None
    try:
        from .inspect import analyze, design_netlists
        netlist, stages = design_netlists(directory)[0]
        info = analyze(netlist, stages)
    except (OSError, ValueError, KeyError):
        pass
    write_file(directory / "report.json", json.dumps(report, indent=2, sort_keys=True) + "\n")
    write_file(directory / "report.md", report_markdown(report, info))


def generate_command(report: dict) -> str:
    """The ``spikegate generate`` command line that makes this design."""
    if report.get("command"):
        return report["command"]
    unit = report.get("unit", "?")
    args = ["spikegate", "generate", unit]
    if unit in ("fp8-mul", "fp8-add"):
        args += ["--format", report.get("format", "e4m3"), "--policy", report.get("policy", "torch")]
        if report.get("variant") not in (None, "default"):
            args += ["--variant", report["variant"]]
    else:
        if report.get("width", 1) != 1:
            args += ["--width", str(report["width"])]
        if report.get("variant") not in (None, "default"):
            args += ["--variant", report["variant"]]
    if report.get("stages"):
        args += ["--stages", str(report["stages"])]
    if report.get("backend", "direct") != "direct":
        args += ["--backend", report["backend"]]
    return " ".join(args + ["-o", "DIR"])


def _fmt(v, digits=1):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def stream_ports(in_width: int, out_width: int) -> dict:
    """report.json's ``ports`` of a valid/ready stream design (``amaranth.lib.stream``
    members ``i`` and ``o`` as Amaranth flattens them, with clock and reset)."""
    return {"clk": {"dir": "in", "width": 1}, "rst": {"dir": "in", "width": 1},
            "i__valid": {"dir": "in", "width": 1}, "i__ready": {"dir": "out", "width": 1},
            "i__payload": {"dir": "in", "width": in_width},
            "o__valid": {"dir": "out", "width": 1}, "o__ready": {"dir": "in", "width": 1},
            "o__payload": {"dir": "out", "width": out_width}}


def report_markdown(report: dict, info: dict | None = None) -> str:
    """``report.md``: the design's figures, readable as is."""
    top = report["top"]
    unit = report.get("unit", "?")
    what = unit
    if unit in ("fp8-mul", "fp8-add"):
        what = f"{unit} {report.get('format', '').upper()}, overflow policy '{report.get('policy')}'"
    elif unit in ("dot", "linear", "mlp"):
        what = (f"{unit} {report['in_features']} -> {report['out_features']}, "
                f"{report.get('format', '').upper()} inputs, accumulation "
                f"'{report.get('accum')}' (order {report.get('order')}), output "
                f"{report.get('out_format')}, {report.get('form', 'spatial')}")
    elif "width" in report:
        what = f"{unit}, width {report['width']}, variant {report.get('variant', 'default')}"
    lines = [f"# {top}", "",
             f"Generated by spikegate {__version__}: {what}. Every logic function is a "
             f"threshold (integrate-and-fire) neuron: it fires when "
             f"`bias + sum(w_i * x_i) >= threshold`.", "",
             f"Reproduce: `{generate_command(report)}`", "",
             "| figure | value |", "|---|---|",
             f"| neurons | {report['neurons']} |",
             f"| synapses | {report['synapses']} |",
             f"| depth (neuron levels) | {report['depth']} |",
             f"| max fan-in | {report['max_fanin']} |",
             f"| max weight magnitude | {report['max_weight']} |",
             f"| pipeline stages / latency (cycles) | {report.get('stages', 0)} / "
             f"{report['latency_cycles']} |", "",
             "## Ports", "", "| port | direction | width |", "|---|---|---|"]
    for name, p in report["ports"].items():
        lines.append(f"| `{name}` | {p['dir']} | {p['width']} |")
    if report.get("stages") and "clk" not in report["ports"]:
        lines.append("| `clk`, `rst` | in | 1 |")
    lines.append("")
    if report.get("interface"):
        lines += [f"Interface: {report['interface']}.", ""]
    if report.get("layers"):
        lines += ["## Layers", "", "| layer | in -> out | form | cycles/vector | accum | "
                  "output | neurons | depth |", "|---|---|---|---|---|---|---|---|"]
        for r in report["layers"]:
            lines.append(f"| {r['name']} | {r['in_features']} -> {r['out_features']} | "
                         f"{r['form']} | {r['cycles_per_vector']} | {r['accum']} | "
                         f"{r['out_format']}{' + ReLU' if r['relu'] else ''} | {r['neurons']} "
                         f"| {r['depth']} |")
        lines += ["", "The tables below describe the first layer's neuron datapath.", ""]
    if info:
        lines += ["## Pipeline stages", "",
                  "| stage | neuron levels | neurons | register bits after |", "|---|---|---|---|"]
        for r in info["per_stage"]:
            lines.append(f"| {r['stage']} | {r['levels'][0]}-{r['levels'][1]} | {r['neurons']} "
                         f"| {r['registers_after']} |")
        lines += ["", "## Functional blocks", "",
                  "| block | neurons | synapses | levels | depth inside |", "|---|---|---|---|---|"]
        for r in info["blocks"]:
            lines.append(f"| {r['block']} | {r['neurons']} | {r['synapses']} | "
                         f"{r['levels'][0]}-{r['levels'][1]} | {r['depth']} |")
        lines += ["", "## Neurons per level", "", "```"]
        peak = max(info["neurons_per_level"], default=1) or 1
        for lv, n in enumerate(info["neurons_per_level"], 1):
            lines.append(f"level {lv:3d} {n:5d} {'#' * max(1, round(40 * n / peak))}")
        lines += ["```", ""]
    else:
        lines += ["## Neurons per block", "", "| block | neurons |", "|---|---|"]
        for b, n in report.get("neurons_per_block", {}).items():
            lines.append(f"| {b} | {n} |")
        lines.append("")
    if "logits_compared" in report:
        lines += ["## Co-simulation", "",
                  f"{report['logits_compared']} logits of {report.get('test_images')} test images "
                  f"streamed through the Verilog on {report.get('simulator')}: "
                  f"{report['logit_mismatches']} mismatches against the torch FP8 reference. "
                  f"Accuracy: float32 model {_fmt(report.get('float_accuracy'), 4)}, FP8 "
                  f"reference {_fmt(report.get('fp8_reference_accuracy'), 4)}, hardware "
                  f"{_fmt(report.get('hardware_accuracy'), 4)}.", ""]
    synth = report.get("synth") or {}
    if synth:
        lines += ["## FPGA synthesis", "",
                  "Registers on every input and output (wrapper `spikegate_synth_top`); the "
                  "baseline is the same operation written as plain behavioural Verilog, "
                  "through the same flow. LUTs are 4-input LUTs; `ffs` are the unit's own.", "",
                  "| target | design | LUTs | carry cells | FFs | logic depth (LUTs) | "
                  "Fmax (MHz) | flow variant | fastest variant's Fmax (MHz) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for target, s in synth.items():
            rows = [("neuron", s)]
            if s.get("baseline"):
                rows.append(("baseline", s["baseline"]))
            for name, r in rows:
                lines.append(f"| {target} | {name} | {r['luts']} | {r['carry_cells']} | "
                             f"{r['ffs']} | {r['logic_depth']} | {_fmt(r.get('fmax_mhz'))} | "
                             f"{r.get('variant', '')} | {_fmt(r.get('fmax_best_mhz'))} |")
            if s.get("ratio"):
                lines.append(f"| {target} | neuron / baseline | {_fmt(s['ratio']['luts'], 2)} | "
                             f"| | | | | {_fmt(s['ratio']['fmax'], 2)} |")
        lines += ["", "Devices: " + "; ".join(f"{t}: {s.get('device')}" for t, s in synth.items()),
                  ""]
    lines += ["## Files", "",
              f"- `{report['verilog']}`: the Verilog (top module `{top}`)",
              "- `report.json`: these figures, machine-readable (schema in the README)"]
    if report.get("form") == "time-multiplexed":
        lines += ["- `datapath.json`: the neuron netlists of the layers' datapaths",
                  "- `layers.json`: every layer's FP8 weight and bias codes (the ROM contents) "
                  "and modes"]
    else:
        lines.append("- `netlist.json`: the neuron netlist (single source of truth)")
        if report.get("unit") in ("dot", "linear") and report.get("weights") == "const":
            lines.append("- `weights.json`: the FP8 weight and bias codes baked in")
    lines += [f"- `{top}.core`: FuseSoC core (`fusesoc library add` this folder)", ""]
    return "\n".join(lines)


def fusesoc_core(report: dict) -> str:
    """A FuseSoC CAPI2 ``.core`` description of the generated Verilog."""
    top = report["top"]
    desc = (f"{report.get('unit', top)} built from {report['neurons']} threshold neurons "
            f"(depth {report['depth']}, latency {report['latency_cycles']} cycles), "
            f"generated by spikegate {__version__}")
    return f"""\
CAPI=2:
# Generated by spikegate {__version__}: do not edit (regenerate with `{generate_command(report)}`).
name: spikegate:generated:{top}:{__version__}
description: "{desc}"

filesets:
  rtl:
    files:
      - {report['verilog']}
    file_type: verilogSource

targets:
  default: &default
    filesets: [rtl]
    toplevel: {top}

  lint:
    <<: *default
    default_tool: verilator
    tools:
      verilator:
        mode: lint-only
        verilator_options: [-Wall, -Wno-UNUSEDSIGNAL, -Wno-PROCASSINIT]

  synth:
    <<: *default
    default_tool: yosys
    tools:
      yosys:
        arch: ice40
        output_format: json
"""
