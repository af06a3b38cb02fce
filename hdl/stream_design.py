"""Time-multiplexed designs on disk: streamed linear layers and MLPs, written and read.

A streamed design is a chain of :class:`~spikegate.hdl.model.Fp8Layer` objects turned into
:mod:`~spikegate.hdl.linear_stream` specs (``P`` dot-product lanes per layer, or one exact
multiply-accumulate lane taking ``K`` inputs per cycle). Its directory holds the Verilog,
``report.json``/``report.md``, the FuseSoC core, ``layers.json`` (every layer's FP8 weight
and bias codes and modes: what the ROMs hold and what the golden needs) and
``datapath.json`` (the neuron netlists of the datapaths and their pipeline stages, for
``inspect``). :mod:`spikegate.sim.stream_check` verifies it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

__all__ = ["write_stream_design", "load_layers"]


def _netlists(spec):
    """The neuron netlists of one layer spec (lanes, or MAC step + rounding)."""
    return [spec.mac, spec.finish] if hasattr(spec, "finish") else [spec.datapath]


def _figures(specs):
    stats = [nl.stats() for s in specs for nl in _netlists(s)]
    return {"neurons": sum(st["neurons"] for st in stats),
            "synapses": sum(st["synapses"] for st in stats),
            "depth": max(st["depth"] for st in stats),
            "max_fanin": max(st["max_fanin"] for st in stats),
            "max_weight": max(st["max_weight"] for st in stats)}


def _layer_row(spec, layer):
    form = (f"one exact MAC lane, {spec.k} inputs/cycle" if hasattr(spec, "finish")
            else f"{spec.lanes} dot-product lane(s), {spec.stages} pipeline stages")
    return {"name": spec.name, "in_features": spec.in_features,
            "out_features": spec.out_features, "form": form,
            "cycles_per_vector": spec.groups + spec.stages + 1,
            "accum": layer.accum, "order": layer.order if layer.accum != "exact" else "n/a",
            "out_format": layer.out_format, "relu": layer.relu,
            **_figures([spec])}


def load_layers(directory):
    """The :class:`~spikegate.hdl.model.Fp8Layer` chain saved in a streamed design directory."""
    from .model import Fp8Layer
    from .atomic import read_json
    data = read_json(Path(directory) / "layers.json",
                     "regenerate the design with `spikegate generate ... --force`")
    return [Fp8Layer(**d) for d in data["layers"]]


def write_stream_design(output, layers, *, top, unit, lanes=1, mac=None, stages=2,
                        force=False, command=None, extra=None) -> dict:
    """Generate the streamed design of ``layers`` into ``output`` (atomically); returns the
    report. ``mac=K``: exact layers use one MAC lane of ``K`` inputs per cycle."""
    from .atomic import write_directory
    from .linear_stream import stream_verilog
    from .inspect import analyze
    from .model import stream_specs
    from .report import fusesoc_core, report_markdown, stream_ports
    out = Path(output)
    if out.exists() and any(out.iterdir()) and not force:
        raise FileExistsError(f"{out} exists and is not empty: pass --force to replace it")
    if stages < 1:
        raise ValueError(f"a streamed design needs --stages >= 1, not {stages}")
    specs = stream_specs(layers, lanes=lanes, stages=stages, prefix="l", mac=mac)
    text = stream_verilog(specs, top=top)
    in_w = layers[0].in_features * 8
    out_w = specs[-1].out_features * specs[-1].out_width
    report = {
        "top": top, "verilog": f"{top}.v", "unit": unit, **_figures(specs),
        "latency_cycles": sum(s.groups + s.stages + 1 for s in specs),
        "stages": max(s.stages for s in specs), "form": "time-multiplexed",
        "format": layers[0].fmt, "policy": layers[0].policy,
        "accum": layers[-1].accum,
        "order": layers[-1].order if layers[-1].accum != "exact" else "n/a",
        "in_features": layers[0].in_features, "out_features": layers[-1].out_features,
        "out_format": layers[-1].out_format,
        "layers": [_layer_row(s, lay) for s, lay in zip(specs, layers)],
        "interface": f"amaranth.lib.stream: i (valid/ready/payload {in_w} bits, x_n at "
                     f"[8n +: 8]), o (valid/ready/payload {out_w} bits, y_m at "
                     f"[{specs[-1].out_width}m +: {specs[-1].out_width}])",
        "ports": stream_ports(in_w, out_w),
        **({"mac_inputs_per_cycle": mac} if mac else {"lanes": lanes}),
        **(extra or {}),
    }
    if command:
        report["command"] = command
    datapaths = {nl.name: {"stages": s.stages, "netlist": nl.to_dict()}
                 for s in specs for nl in _netlists(s)}
    info = analyze(_netlists(specs[0])[0], specs[0].stages)
    files = {f"{top}.v": text,
             "report.json": json.dumps(report, indent=2, sort_keys=True) + "\n",
             "report.md": report_markdown(report, info),
             f"{top}.core": fusesoc_core(report),
             "layers.json": json.dumps({"layers": [asdict(lay) for lay in layers]}) + "\n",
             "datapath.json": json.dumps(datapaths, indent=1) + "\n"}
    write_directory(out, files)
    return report
