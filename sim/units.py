"""The unit registry: one :class:`UnitSpec` per unit, read by every command and test.

A spec names the unit, says in one line what it is, gives its parameter space (formats,
policies, variants), its builder, its golden and how its vectors are chosen (exhaustive up
to :data:`~.regress.EXHAUSTIVE_LIMIT` inputs, TestFloat-style beyond), and which
behavioural baseline synthesis compares it with. ``spikegate list``, ``generate``,
``verify`` and ``bench`` read :data:`REGISTRY`.

Adding a unit is one :class:`UnitSpec` in :func:`_float_specs` (or beside it) plus its
builder in ``gen/``: the builder returns a :class:`~spikegate.gen.netlist.Netlist` whose
``meta['unit']`` is the spec's name, the golden maps ``(meta, inputs)`` to expected outputs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..gen.catalog import CATALOG, build_block
from ..gen.netlist import UNBOUNDED, Bounds
from ..golden.formats import POLICIES, format_choices, get_format

__all__ = ["UnitSpec", "REGISTRY", "UNITS", "build_unit", "fp8_variants", "get_spec",
           "FLOAT_OPS", "describe_units"]


@dataclass(frozen=True)
class UnitSpec:
    """One generator and everything that checks it.

    Parameters
    ----------
    name : str
        Unit name on the command line and in ``report.json``.
    description : str
        One line for ``spikegate list``.
    build : callable
        ``build(fmt=..., policy=..., variant=..., width=..., to=..., bounds=...)`` ->
        Netlist (each builder takes what it needs).
    formats : tuple of str, or None
        Formats offered (``None``: not a float unit; ``("any",)``: every format,
        custom ``eXmY`` included).
    policies : tuple of str
    variants : callable
        ``variants(fmt)`` -> tuple of variant names (first is the default).
    golden : callable, optional
        ``golden(meta, inputs)`` -> expected output buses.
    vectors : callable, optional
        ``vectors(meta, count, seed)`` -> input buses, for spaces too large to enumerate.
    baseline : str, optional
        Key of the behavioural baseline (:mod:`spikegate.hdl.baseline`), if there is one.
    """

    name: str
    description: str
    build: Callable
    formats: tuple | None = None
    policies: tuple = ()
    variants: Callable = field(default=lambda fmt: ("default",))
    golden: Callable | None = None
    vectors: Callable | None = None
    baseline: str | None = None

    def check_format(self, fmt):
        fmt = get_format(fmt)
        if self.formats and "any" not in self.formats and fmt.name not in self.formats:
            raise ValueError(f"{self.name} is offered for {', '.join(self.formats)}, not "
                             f"{fmt.name}")
        return fmt


# -- the any-format float operations --------------------------------------------------------

#: Float operations: unit -> arity.
FLOAT_OPS = {"fadd": 2, "fsub": 2, "fmul": 2, "fdiv": 2, "fsqrt": 1}
#: Their any-format builders: unit -> (module of gen/, function).
_GENERIC = {"fadd": ("float_add", "build_fadd"), "fsub": ("float_add", "build_fsub"),
            "fmul": ("float_mul", "build_fmul"), "fdiv": ("float_divsqrt", "build_fdiv"),
            "fsqrt": ("float_divsqrt", "build_fsqrt")}


def _float_builder(op, name=None):
    def build(fmt="e4m3", policy="torch", variant=None, bounds=UNBOUNDED, **_):
        fmt = get_format(fmt)
        variant = variant or "default"
        choices = _float_variants(op)(fmt)
        if variant not in choices:
            what = name or f"{op} for {fmt.name}"
            raise ValueError(f"unknown variant {variant!r} of {what}: choose one of "
                             f"{', '.join(choices)}")
        if fmt.name in ("e4m3", "e5m2") and op in _FP8_BUILDERS:
            fp8 = _FP8_BUILDERS[op]()
            if variant in fp8:
                return fp8[variant](fmt, policy=policy, bounds=bounds)
        module, function = ("float_lean", f"build_{op}_lean") if variant == "lean" \
            else _GENERIC[op]
        fn = getattr(importlib.import_module(f"{__package__.rsplit('.', 1)[0]}.gen.{module}"),
                     function)
        return fn(fmt, policy=policy, bounds=bounds)
    return build


def _fp8_mul_builders():
    from ..gen import fp8
    return {"default": fp8.build_fp8_mul, "shallow": fp8.build_fp8_mul_shallow,
            "lean": fp8.build_fp8_mul_lean}


def _fp8_add_builders():
    from ..gen import fp8
    return {"default": fp8.build_fp8_add, "lean": fp8.build_fp8_add_lean}


#: The FP8-specialised architectures that serve ``fmul``/``fadd`` on E4M3 and E5M2.
_FP8_BUILDERS = {"fmul": _fp8_mul_builders, "fadd": _fp8_add_builders}


def _float_variants(op):
    def variants(fmt):
        if fmt is not None and get_format(fmt).name in ("e4m3", "e5m2") \
                and op in _FP8_BUILDERS:
            return tuple(_FP8_BUILDERS[op]())
        if fmt is not None and get_format(fmt).name not in ("e4m3", "e5m2"):
            from ..gen.float_lean import lean_supports
            if lean_supports(op, fmt):          # fan-in <= 4 datapaths (FPGA LUTs)
                return ("default", "lean")
        return ("default",)
    return variants


def _float_golden(op):
    def golden(meta, inputs):
        from ..golden.torch_float import golden_op
        args = [inputs["a"]] + ([inputs["b"]] if FLOAT_OPS[op] == 2 else [])
        return {"y": golden_op(op, meta["format"], *args, policy=meta["policy"])}
    return golden


def _float_vectors(op):
    def vectors(meta, count, seed):
        from ..golden.float_vectors import float_operands
        cols = float_operands(meta["format"], FLOAT_OPS[op], count, seed=seed)
        return dict(zip(("a", "b"), cols))
    return vectors


def _fp8_golden(op):
    def golden(meta, inputs):
        from ..golden.torch_ref import golden_add, golden_mul
        fn = golden_mul if op == "fmul" else golden_add
        y = fn(meta["format"], np.asarray(inputs["a"], dtype=np.uint8),
               np.asarray(inputs["b"], dtype=np.uint8), policy=meta["policy"])
        return {"y": np.asarray(y).astype(np.uint64)}
    return golden


def _convert_build(fmt="e4m3", policy="torch", to=None, bounds=UNBOUNDED, **_):
    from ..gen.float_add import build_fconvert
    if to is None:
        raise ValueError("fconvert needs --to FORMAT (the destination format)")
    return build_fconvert(fmt, to, policy=policy, bounds=bounds)


def _convert_golden(meta, inputs):
    from ..golden.torch_float import golden_convert
    return {"y": golden_convert(meta["format"], meta["to"], inputs["a"],
                                policy=meta["policy"])}


def _convert_vectors(meta, count, seed):
    from ..golden.float_vectors import float_operands
    return {"a": float_operands(meta["format"], 1, count, seed=seed)[0]}


def _float_specs():
    any_fmt = ("any",)
    text = {"fadd": "a + b, correctly rounded (RNE), any float format",
            "fsub": "a - b, correctly rounded (RNE), any float format",
            "fmul": "a * b, correctly rounded (RNE), any float format",
            "fdiv": "a / b, correctly rounded (RNE), any float format",
            "fsqrt": "sqrt(a), correctly rounded (RNE), any float format"}
    specs = [UnitSpec(op, text[op], _float_builder(op), any_fmt, POLICIES, _float_variants(op),
                      _float_golden(op), _float_vectors(op),
                      baseline=op if op in ("fadd", "fsub", "fmul") else None)
             for op in FLOAT_OPS]
    specs.append(UnitSpec("fconvert", "a converted to --to: exact widening, RNE narrowing",
                          _convert_build, any_fmt, POLICIES, golden=_convert_golden,
                          vectors=_convert_vectors))
    for alias, op in (("fp8-mul", "fmul"), ("fp8-add", "fadd")):
        specs.append(UnitSpec(alias, f"the FP8 {op} (E4M3/E5M2, torch semantics)",
                              _float_builder(op, alias), ("e4m3", "e5m2"), POLICIES,
                              _float_variants(op), _fp8_golden(op), baseline=alias))
    return specs


# -- FP8 converters, ReLU, catalogue blocks, layers ------------------------------------------

def _converter_specs():
    def make(name, fn_name, rounds, text):
        def build(fmt="e4m3", policy="torch", bounds=UNBOUNDED, **_):
            from ..gen import fp8
            fn = getattr(fp8, fn_name)
            return fn(fmt, policy, bounds=bounds) if rounds else fn(fmt, bounds=bounds)
        return UnitSpec(name, text, build, ("e4m3", "e5m2"), POLICIES if rounds else ())
    return [make("fp8-to-fp32", "build_fp8_to_fp32", False, "FP8 -> float32, exact"),
            make("fp8-to-fp16", "build_fp8_to_fp16", False, "FP8 -> float16, exact"),
            make("fp32-to-fp8", "build_fp32_to_fp8", True, "float32 -> FP8, RNE + policy"),
            make("fp16-to-fp8", "build_fp16_to_fp8", True, "float16 -> FP8, RNE + policy"),
            make("fp8-mul-fp32", "build_fp8_mul_fp32", False, "FP8 x FP8 -> float32, exact")]


def _block_specs():
    def make(name):
        def build(width=4, variant=None, bounds=UNBOUNDED, **_):
            return build_block(name, width=width, variant=variant, bounds=bounds)
        return UnitSpec(name, f"integer block {name} (--width, --variant)", build,
                        baseline=name)
    return [make(name) for name in CATALOG]


def _layer_specs():
    def relu(fmt="e4m3", **_):
        from ..gen.dot import build_relu
        return build_relu(fmt)

    def layer(name):
        def build(**_):
            raise ValueError(f"unit {name!r} takes --in/--out/--accum (mlp, transformer: "
                             f"--model): see `spikegate generate --help`")
        return build
    return [UnitSpec("relu", "FP8 ReLU", relu, ("e4m3", "e5m2")),
            UnitSpec("dot", "FP8 dot product (--in, --accum)", layer("dot")),
            UnitSpec("linear", "FP8 linear layer, spatial or streamed", layer("linear")),
            UnitSpec("mlp", "an nn.Sequential of Linear/ReLU as a streamed design",
                     layer("mlp")),
            UnitSpec("transformer", "a TransformerClassifier (--model) on a neuron processor",
                     layer("transformer"))]


def _function_specs():
    """The correctly rounded unary functions of the 8- and 16-bit formats
    (gen/float_function.py, gen/wide_function.py; golden: the exact reference
    golden/functions.py; every input)."""
    from ..gen.float32_function import FLOAT32_CORRECTLY_ROUNDED, FLOAT32_FUNCTIONS
    from ..gen.float_function import FUNCTION_FORMATS
    from ..golden.functions import FUNCTIONS
    text = {"exp": "e^a", "sigmoid": "1/(1+e^-a)", "tanh": "tanh(a)", "silu": "a*sigmoid(a)",
            "gelu": "a/2*(1+erf(a/sqrt2))", "gelu-tanh": "GELU, torch's tanh form",
            "recip": "1/a", "rsqrt": "1/sqrt(a)"}

    def make(name):
        def build(fmt="e4m3", policy="torch", to=None, variant=None, bounds=UNBOUNDED, **_):
            from ..gen.float_function import build_function
            return build_function(name, fmt, out=to, policy=policy, bounds=bounds,
                                  method=variant)

        def variants(fmt):
            from ..gen.float_function import function_methods
            return function_methods(fmt)

        def golden(meta, inputs):
            from ..golden.functions import golden_function
            out = meta.get("out_format") or meta.get("to") or meta["format"]
            return {"y": golden_function(name, meta["format"], inputs["a"], out,
                                         meta.get("policy", "torch"))}

        def vectors(meta, count, seed):
            from ..golden.functions import function_vectors
            return {"a": function_vectors(name, meta["format"], count, seed)}
        fp32 = name in FLOAT32_FUNCTIONS
        faithful = fp32 and name not in FLOAT32_CORRECTLY_ROUNDED
        return UnitSpec(name, f"{text[name]}, correctly rounded (RNE) for every input"
                              f"{' (fp32: faithful)' if faithful else ''}; --to FORMAT for "
                              f"another output format", build,
                        FUNCTION_FORMATS + (("fp32",) if fp32 else ()), POLICIES, variants,
                        golden, vectors if fp32 else None)
    return [make(name) for name in FUNCTIONS]


def _norm_specs():
    """RMSNorm and LayerNorm over ``n`` elements (gen/norm.py; golden: the same algorithm
    step by step, golden/norms.py; seeded random and directed vectors)."""
    from ..gen.norm import NORM_FORMATS
    text = {"rmsnorm": "RMSNorm over --n elements: x * w / sqrt(mean(x^2) + eps); --lanes P: "
                       "streamed, P a beat",
            "layernorm": "LayerNorm over --n elements: (x - mean) * w / sqrt(var + eps) + b; "
                         "--lanes P: streamed"}

    def ports(name):
        return ("x", "w", "b") if name == "layernorm" else ("x", "w")

    def make(name):
        def build(fmt="bf16", policy="torch", n=None, eps=None, bounds=UNBOUNDED, **_):
            from ..gen.norm import build_norm
            from ..golden.norms import DEFAULT_EPS
            if n is None:
                raise ValueError(f"{name} needs --n N (the number of elements)")
            return build_norm(name, fmt, n, eps=DEFAULT_EPS if eps is None else eps,
                              policy=policy, bounds=bounds)

        def golden(meta, inputs):
            from ..golden.norms import norm_golden
            n = meta["n"]
            cols = {p: np.stack([np.asarray(inputs[f"{p}{i}"], np.uint64) for i in range(n)], 1)
                    for p in ports(name)}
            y = norm_golden(name, meta["format"], cols["x"], cols["w"], cols.get("b"),
                            eps=meta["eps"], policy=meta["policy"])
            return {f"y{i}": y[:, i] for i in range(n)}

        def vectors(meta, count, seed):
            from ..golden.norms import norm_vectors
            cols = norm_vectors(name, meta["format"], meta["n"], count, seed)
            return {f"{p}{i}": cols[p][:, i] for p in ports(name) for i in range(meta["n"])}
        return UnitSpec(name, text[name], build, NORM_FORMATS, POLICIES, golden=golden,
                        vectors=vectors)
    return [make(name) for name in ("rmsnorm", "layernorm")]


def _softmax_spec():
    """Softmax over ``n`` elements, max subtracted (gen/softmax.py; golden: the same steps,
    golden/softmax.py)."""
    from ..golden.softmax import SOFTMAX_FORMATS

    def build(fmt="bf16", policy="torch", n=None, bounds=UNBOUNDED, **_):
        from ..gen.softmax import build_softmax
        if n is None:
            raise ValueError("softmax needs --n N (the number of elements)")
        return build_softmax(fmt, n, policy=policy, bounds=bounds)

    def golden(meta, inputs):
        from ..golden.softmax import softmax_golden
        n = meta["n"]
        x = np.stack([np.asarray(inputs[f"x{i}"], np.uint64) for i in range(n)], 1)
        y = softmax_golden(meta["format"], x, policy=meta["policy"])
        return {f"y{i}": y[:, i] for i in range(n)}

    def vectors(meta, count, seed):
        from ..golden.softmax import softmax_vectors
        x = softmax_vectors(meta["format"], meta["n"], count, seed)
        return {f"x{i}": x[:, i] for i in range(meta["n"])}
    return UnitSpec("softmax", "softmax over --n elements, max subtracted (float32 steps, "
                               "binary64 for fp32; correctly rounded exp tables); --lanes P: "
                               "streamed", build, SOFTMAX_FORMATS,
                    POLICIES, golden=golden, vectors=vectors)


#: The vector units: they take --n (and the norms --eps).
VECTOR_UNITS = ("rmsnorm", "layernorm", "softmax")

REGISTRY: dict[str, UnitSpec] = {s.name: s for s in (*_block_specs(), *_float_specs(),
                                                     *_converter_specs(), *_layer_specs(),
                                                     *_function_specs(), *_norm_specs(),
                                                     _softmax_spec())}
UNITS = tuple(REGISTRY)


def get_spec(unit) -> UnitSpec:
    try:
        return REGISTRY[unit]
    except KeyError:
        raise ValueError(f"unknown unit {unit!r}: choose one of {', '.join(UNITS)}") from None


def fp8_variants(unit):
    """The FP8 architectures of ``fp8-mul``/``fp8-add`` by variant name: ``default`` (few
    neuron levels, wide neurons), ``shallow`` (multiplier: five levels), ``lean`` (fan-in
    <= 4: fewest FPGA LUTs)."""
    return _FP8_BUILDERS["fmul" if unit == "fp8-mul" else "fadd"]()


def build_unit(unit, *, width=4, variant=None, fmt="e4m3", policy="torch", to=None, n=None,
               eps=None, bounds: Bounds = UNBOUNDED):
    """The netlist of ``unit`` with its options; one-line errors name the choices.
    ``n``, ``eps``: the vector units' length and epsilon (an error for other units)."""
    spec = get_spec(unit)
    if spec.formats is not None:
        fmt = spec.check_format(fmt)
    vector = {k: v for k, v in (("n", n), ("eps", eps)) if v is not None}
    takes = {"n": VECTOR_UNITS, "eps": ("rmsnorm", "layernorm")}
    for key in vector:
        if spec.name not in takes[key]:
            raise ValueError(f"--{key} is for {', '.join(takes[key])}, not {unit}")
    return spec.build(width=width, variant=variant, fmt=fmt, policy=policy, to=to,
                      bounds=bounds, **vector)


def describe_units() -> str:
    """``spikegate list``: one line per unit, with its formats."""
    rows = []
    for s in REGISTRY.values():
        fm = "" if s.formats is None else (" [" + (format_choices() if "any" in s.formats
                                                     else ", ".join(s.formats)) + "]")
        rows.append(f"{s.name:14s} {s.description}{fm}")
    return "\n".join(rows)
