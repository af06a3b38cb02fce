"""A transformer design on disk: Verilog, report, and the codes the golden needs.

``write_transformer_design`` compiles a :class:`~spikegate.golden.transformer.QuantizedTransformer`
(:mod:`spikegate.gen.transformer`), writes the processor (:mod:`.processor`) and, in one
atomic step: ``<top>.v``, ``report.json``/``report.md`` (structure, precision recipe, units,
memories, cycles) and ``model.json`` (configuration and every code held in ROM, so
``verify`` recomputes the golden from what the hardware holds).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..gen.transformer import compile_transformer
from ..golden.transformer import QuantizedTransformer, token_bits
from .atomic import read_json, write_directory
from .processor import processor_verilog, unit_designs
from .report import stream_ports

__all__ = ["write_transformer_design", "load_model", "transformer_report"]


def transformer_report(program, designs, *, top):
    cfg = program.config
    fig = program.figures()
    units = {op: {k: d.stats[k] for k in ("neurons", "synapses", "depth")}
             for op, d in designs.items()}
    mem = {"program_rom_bits": fig["program_words"] * fig["word_bits"],
           "weight_rom_bits": len(program.rom) * program.lanes * 8,
           "embedding_rom_bits": len(program.embedding) * cfg["d_model"] * 16
                                 if program.embedding else 0,
           "scalar_ram_bits": program.scalars * 32,
           "vector_ram_bits": program.vectors * program.lanes * 8}
    stages = program.stages
    staged = sum(w for _, name, w in program.fields()
                 if name in ("op", "dst", "lane", "neg", "rom", "done"))
    tb = token_bits(cfg)
    control = (staged * (1 + stages) + 16 * stages + cfg["classes"] * 16 * program.outputs
               + 2 * len(program.bundles).bit_length() + 8
               + (cfg["seq_len"] * tb + 16 * stages if program.embedding else 0))
    token = (f"one token id ({tb} bits; ids >= {cfg['vocab']} read +0 rows)"
             if program.embedding else
             "one token, feature n at [8n +: 8], E4M3")
    rows = (f"; {program.outputs} transfers per sequence (LM head: one per position)"
            if program.outputs > 1 else "")
    unit_regs = sum(d.verilog.count("\n  reg ") for d in designs.values())
    return {
        "top": top, "verilog": f"{top}.v", "unit": "transformer", "form": "neuron processor",
        "config": cfg, "lanes": program.lanes, "stages": stages,
        "neurons": sum(u["neurons"] for u in units.values()),
        "synapses": sum(u["synapses"] for u in units.values()),
        "depth": max(u["depth"] for u in units.values()), "units": units,
        **fig, **mem, "rom_bits": (mem["program_rom_bits"] + mem["weight_rom_bits"]
                                   + mem["embedding_rom_bits"]),
        "register_bits": {"unit_pipelines": unit_regs, "control": control,
                          "total": unit_regs + control},
        "latency_cycles": fig["cycles_per_sequence"] - cfg["seq_len"],
        "interface": (f"amaranth.lib.stream: i (valid/ready/payload {tb} bits: {token}), "
                      f"o (valid/ready/payload {cfg['classes'] * 16} bits: logit c at "
                      f"[16c +: 16], BF16); {cfg['seq_len']} tokens per sequence{rows}"),
        "ports": stream_ports(tb, cfg["classes"] * 16),
    }


def _markdown(report):
    from ..golden import transformer as recipe
    cfg = report["config"]
    lines = [f"# {report['top']}: transformer on a neuron processor", "",
             "Structure: " + ", ".join(f"{k} {v}" for k, v in cfg.items()), "",
             f"- {report['neurons']:,} neurons, {report['synapses']:,} synapses "
             f"(units, one each), unit depth <= {report['depth']} levels, "
             f"{report['stages']} register stage(s) per unit",
             f"- {report['instructions']:,} instructions in {report['program_words']:,} "
             f"program words (bundles of <= 4, {report['word_bits']} bits); "
             f"{report['cycles_per_sequence']:,} "
             f"cycles per sequence ({report['cycles_per_token']} per token)",
             f"- registers {report['register_bits']['total']:,} bits (unit pipelines "
             f"{report['register_bits']['unit_pipelines']:,}, control "
             f"{report['register_bits']['control']:,})",
             f"- ROM {report['rom_bits']:,} bits (program {report['program_rom_bits']:,}, "
             f"weights {report['weight_rom_bits']:,}, embedding "
             f"{report['embedding_rom_bits']:,}); RAM scalars "
             f"{report['scalar_ram_bits']:,} bits, vectors {report['vector_ram_bits']:,} bits",
             f"- interface: {report['interface']}", "", "| unit | neurons | synapses | depth |",
             "|---|---:|---:|---:|"]
    lines += [f"| {op} | {u['neurons']:,} | {u['synapses']:,} | {u['depth']} |"
              for op, u in report["units"].items()]
    doc = recipe.__doc__
    table = doc[doc.index("Precision"):].strip()
    return "\n".join(lines) + "\n\n## " + table + "\n"


def write_transformer_design(q: QuantizedTransformer, output, *, top="transformer", stages=1,
                             lanes=None, force=False, command=None) -> dict:
    """Compile and write the design of ``q`` into ``output``; returns the report."""
    out = Path(output)
    if out.exists() and any(out.iterdir()) and not force:
        raise FileExistsError(f"{out} exists and is not empty: pass --force to replace it")
    program = compile_transformer(q, lanes=lanes, stages=stages)
    designs = unit_designs(program, top)
    text = processor_verilog(program, top=top, designs=designs)
    report = transformer_report(program, designs, top=top)
    if command:
        report["command"] = command
    model = {"config": q.config, "params": {k: [int(c) for c in np.asarray(v).reshape(-1)]
                                            for k, v in q.params.items()},
             "shapes": {k: list(np.shape(v)) for k, v in q.params.items()}}
    write_directory(out, {f"{top}.v": text,
                          "report.json": json.dumps(report, indent=2, sort_keys=True) + "\n",
                          "report.md": _markdown(report),
                          "model.json": json.dumps(model, sort_keys=True) + "\n"})
    return report


def load_model(directory) -> QuantizedTransformer:
    """The :class:`QuantizedTransformer` saved with a design (``model.json``)."""
    data = read_json(Path(directory) / "model.json",
                     "regenerate the design with `spikegate generate transformer ... --force`")
    params = {k: np.asarray(v, dtype=np.uint64).reshape(data["shapes"][k])
              for k, v in data["params"].items()}
    return QuantizedTransformer(data["config"], params)
