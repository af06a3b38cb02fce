"""From a torch model to neuron hardware: ``nn.Linear`` / ``nn.Sequential`` of Linear and ReLU.

:func:`from_torch` casts weights and biases to FP8 with torch's own cast
(``tensor.float().to(torch.float8_e4m3fn)``: round to nearest even; E4M3 saturates to
+-448, E5M2 overflows to +-inf: the ``torch`` policy of :mod:`spikegate.golden.fp8`) and
returns :class:`Fp8Layer` objects. Hidden layers output FP8 (the next layer's input format;
a ReLU becomes the FP8 ReLU unit on those outputs); the last layer outputs ``out_format``.

From the layers: :func:`spatial_netlist` (every weight a constant, one fully spatial
netlist), :func:`stream_specs` (time-multiplexed :class:`~spikegate.hdl.linear_stream.LayerSpec`
with ``lanes`` lanes per layer), :func:`reference` (the exact golden, torch-free) and
:func:`torch_reference` (the torch FP8 reference model: the FP8 values as float64 tensors
through ``torch.nn.functional.linear`` -- exact for E4M3 layers of up to 2^8 inputs -- then
one rounding to the layer's output format; see :mod:`spikegate.golden.dot` for why the
rounding is not torch's float64 cast).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Fp8Layer", "quantize", "from_torch", "spatial_netlist", "stream_specs",
           "reference", "torch_reference", "layer_netlist"]


@dataclass
class Fp8Layer:
    weight: list          # out_features rows of in_features FP8 codes
    bias: list | None     # out_features codes or None
    relu: bool
    out_format: str       # "e4m3"/"e5m2" for hidden layers, any for the last
    fmt: str = "e4m3"
    accum: str = "exact"
    order: str = "tree"
    policy: str = "torch"

    @property
    def in_features(self):
        return len(self.weight[0])

    @property
    def out_features(self):
        return len(self.weight)


def quantize(tensor, fmt="e4m3"):
    """FP8 codes (numpy uint8) of a float tensor, cast by torch (RNE, ``torch`` policy)."""
    import torch

    from ..golden.torch_ref import torch_dtype
    t = tensor.detach().float().cpu()
    return t.to(torch_dtype(fmt)).view(torch.uint8).numpy().copy()


def from_torch(model, *, fmt="e4m3", accum="exact", order="tree", out_format="fp32",
               policy="torch"):
    """Layers of an ``nn.Linear`` or an ``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU``."""
    import torch.nn as nn
    mods = list(model) if isinstance(model, nn.Sequential) else [model]
    layers = []
    for mod in mods:
        if isinstance(mod, nn.Linear):
            w = quantize(mod.weight, fmt)
            bias = None if mod.bias is None else [int(c) for c in quantize(mod.bias, fmt)]
            layers.append(Fp8Layer([[int(c) for c in row] for row in w], bias, False, fmt, fmt,
                                   accum, order, policy))
        elif isinstance(mod, nn.ReLU):
            if not layers or layers[-1].relu:
                raise ValueError("a ReLU must follow a Linear layer")
            layers[-1].relu = True
        else:
            raise ValueError(f"from_torch supports nn.Linear and nn.ReLU, not "
                             f"{type(mod).__name__}")
    if not layers:
        raise ValueError("the model has no nn.Linear layer")
    for a, c in zip(layers, layers[1:]):
        if a.out_features != c.in_features:
            raise ValueError(f"layer sizes do not chain: {a.out_features} -> {c.in_features}")
    if not layers[-1].relu:
        layers[-1].out_format = out_format
    return layers


def layer_netlist(layer: Fp8Layer, *, ports=False, lanes=None, name=None):
    """The layer as :func:`~spikegate.gen.dot.build_linear`: constants, or ``lanes`` lanes
    with weight (and bias) ports for the time-multiplexed form."""
    from ..gen.dot import build_linear
    kw = dict(accum=layer.accum, out=layer.out_format, policy=layer.policy, order=layer.order,
              activation="relu" if layer.relu else None, name=name)
    if ports:
        return build_linear(layer.in_features, lanes, layer.fmt, weights=None,
                            bias=None if layer.bias is None else "port", **kw)
    return build_linear(layer.in_features, layer.out_features, layer.fmt,
                        weights=layer.weight, bias=layer.bias, **kw)


def spatial_netlist(layers, *, name="mlp"):
    """All layers unrolled with constant weights into one netlist: ``x*`` in, ``y*`` out."""
    from ..gen.builder import NetlistBuilder
    b = NetlistBuilder(name)
    cur = [b.input(f"x{i}", 8) for i in range(layers[0].in_features)]
    for k, layer in enumerate(layers):
        nl = layer_netlist(layer)
        outs = b.embed(nl, {f"x{i}": cur[i] for i in range(layer.in_features)},
                       block=f"l{k}")
        cur = [outs[f"y{m}"] for m in range(layer.out_features)]
    for m, y in enumerate(cur):
        b.output(f"y{m}", y)
    b.meta.update(unit="mlp", layers=len(layers))
    return b.build()


def stream_specs(layers, *, lanes=1, stages=2, prefix="l", mac=None):
    """Time-multiplexed specs per layer.

    ``mac=K``: exact layers become one multiply-accumulate lane taking ``K`` inputs per
    cycle (:class:`~spikegate.hdl.linear_stream.MacLayerSpec`, smallest hardware);
    otherwise ``lanes`` full dot-product lanes per layer
    (:class:`~spikegate.hdl.linear_stream.LayerSpec`; ``lanes`` an int or one per layer).
    """
    from ..gen.dot import build_mac, build_mac_finish
    from .linear_stream import LayerSpec, MacLayerSpec
    lanes = [lanes] * len(layers) if isinstance(lanes, int) else list(lanes)
    specs = []
    for k, (layer, p) in enumerate(zip(layers, lanes)):
        name = f"{prefix}{k}"
        if mac and layer.accum == "exact":
            kk = max(1, min(mac, layer.in_features))
            bias = layer.bias is not None
            m = build_mac(kk, layer.fmt, total=layer.in_features, bias=bias,
                          name=f"{name}_mac{kk}")
            f = build_mac_finish(layer.fmt, total=layer.in_features, bias=bias,
                                 out=layer.out_format, policy=layer.policy,
                                 activation="relu" if layer.relu else None,
                                 name=f"{name}_finish")
            specs.append(MacLayerSpec(m, f, layer.weight, layer.bias, name=name))
            continue
        p = max(1, min(p, layer.out_features))
        dp = layer_netlist(layer, ports=True, lanes=p, name=f"{name}_lanes")
        specs.append(LayerSpec(dp, layer.weight, layer.bias, stages=stages, name=name))
    return specs


def _layer_golden(layer: Fp8Layer, x):
    from ..golden.dot import linear_exact, relu_ref
    if layer.accum != "exact":
        from ..golden.torch_dot import torch_linear
        y = torch_linear(layer.fmt, x, layer.weight, layer.bias, accum=layer.accum,
                         order=layer.order, out=layer.out_format, policy=layer.policy)
    else:
        y = linear_exact(layer.fmt, x, layer.weight, layer.bias, out=layer.out_format,
                         policy=layer.policy)
    if layer.relu:
        y = relu_ref(layer.out_format, y)
    return y.astype(np.uint64)


def reference(layers, x):
    """Output codes of every layer for input codes ``x`` (batch, in_features): exact golden."""
    outs = []
    cur = np.asarray(x, dtype=np.int64)
    for layer in layers:
        cur = _layer_golden(layer, cur)
        outs.append(cur)
        cur = cur.astype(np.int64)
    return outs


def torch_reference(layers, x):
    """The torch FP8 reference model (``exact`` layers): float64 ``F.linear`` on the FP8
    values, one rounding per layer, torch ReLU. Returns output codes per layer."""
    import torch
    import torch.nn.functional as F

    from ..golden.dot import exact_terms, get_out_format, overflow, round_int
    from ..golden.fp8 import get_format
    from ..golden.torch_ref import torch_dtype

    def values(codes, fmt):
        t = torch.from_numpy(np.asarray(codes, dtype=np.uint8)).view(torch_dtype(fmt))
        return t.double()

    outs = []
    cur = np.asarray(x, dtype=np.int64)
    for layer in layers:
        if layer.accum != "exact":
            cur = _layer_golden(layer, cur).astype(np.int64)
            outs.append(cur.astype(np.uint64))
            continue
        fmt = get_format(layer.fmt)
        outf = get_out_format(layer.out_format)
        xv = values(cur, fmt)
        wv = values(np.array(layer.weight), fmt)
        bv = None if layer.bias is None else values(np.array(layer.bias), fmt)
        acc = F.linear(xv, wv, bv)                     # exact for E4M3, N <= 2^8
        unit = 2 * fmt.quantum_exp
        ints = (acc * 2.0 ** -unit).numpy()
        _, nan, inf_p, inf_n, negzero = exact_terms(
            fmt, cur[:, None, :], np.array(layer.weight)[None],
            None if layer.bias is None else np.array(layer.bias)[None])
        res = np.empty(acc.shape, dtype=np.uint64)
        for idx in np.ndindex(acc.shape):
            v = ints[idx]
            if np.isnan(v) or nan[idx] or (inf_p[idx] and inf_n[idx]):
                res[idx] = outf.canonical_nan
            elif np.isinf(v) or inf_p[idx] or inf_n[idx]:
                res[idx] = overflow(outf, layer.policy, int(inf_n[idx] or v < 0))
            else:
                assert v == int(v), "float64 sum not exact: use reference() for this layer"
                res[idx] = round_int(outf, int(v), unit, policy=layer.policy,
                                     zero_sign=int(negzero[idx]))
        if layer.relu:
            t = torch.from_numpy(res.astype(np.uint8)).view(torch_dtype(outf))
            r = torch.relu(t.float()).to(torch_dtype(outf)).view(torch.uint8).numpy()
            from ..golden.fp8 import canonicalize_nan
            res = canonicalize_nan(outf, r).astype(np.uint64)
        outs.append(res)
        cur = res.astype(np.int64)
    return outs
