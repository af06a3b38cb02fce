"""A netlist-specialised evaluation path: one generated kernel per netlist, CPU and GPU.

:class:`~spikegate.sim.torch_engine.TorchEngine` stays the reference and the path for
physics (noise, threshold variation, temporal mode). It is general, and pays for it: one
matrix product per level and read range, float state written to memory between levels,
host transfers. An ideal threshold netlist is a fixed straight-line program, so this module
*compiles* it: every neuron becomes one line ``fire = (sum of w_i * x_i) >= (threshold -
bias)`` over 0/1 inputs (constant inputs folded into the threshold, neurons that reach no
output dropped, neurons scheduled depth-first from the outputs so that few signals are
alive at once), and a lane's signals never leave the registers (or the L1 cache) between
levels.

GPU (CUDA): a Triton kernel generated from the netlist (Triton is imported lazily, only
when a CUDA device is used). One thread evaluates one lane: weights are float32
fused multiply-adds on 0/1 values (exact: every sum is an integer far below 2**24; netlists
whose sums could reach it get int32 arithmetic). For exhaustive checks the kernel
enumerates the input combinations itself from a start index, compares its outputs with the
golden on the device (a golden *table* for input spaces of up to 16 bits, a golden tensor
computed chunk by chunk by a torch callable for larger ones) and returns only the mismatch
count and the first mismatching indices: nothing crosses the bus but a few bytes per
launch. Input spaces too large to enumerate (a 64-input dot product: 1,024 bits) are
checked by :func:`random_check` the same way: seeded vectors drawn on the device, a torch
golden evaluated there. Bit-packing 32 lanes into an int32 was considered and not done:
it makes AND/OR gates one instruction for 32 lanes, but a wide weighted threshold neuron
(fan-in 20, weights up to 128, as in the FP8 units) then needs a bit-sliced carry-save
adder and comparator, tens of instructions per weight bit, and the lane-per-thread kernel
is already far from the arithmetic limit of the chip (see reports/engine.md).

CPU: a C kernel generated from the netlist, compiled once with the system C compiler
(``cc``/``gcc``, ``-O2 -march=native``) into a shared library cached by the hash of its
source, and called through :mod:`ctypes`, which releases the GIL, so chunks run on Python
threads, one per core. Why C and not the alternatives:

* ``torch.utils.cpp_extension.load_inline`` needs ninja and compiles the torch headers
  (tens of seconds per netlist); a plain C file compiles in about a second;
* numpy/torch integer ops, bit-sliced or not, still write every neuron's lane vector to
  memory and pay one interpreter dispatch per neuron per chunk (hundreds of calls per
  chunk), which is the cost TorchEngine already has;
* in C, GCC vector extensions evaluate 16 lanes (int16 in AVX2) per instruction, a signal
  is a mask ``0`` / ``-1`` so that ``w * x`` is one ``and`` (and ``x`` with weight +-1 just
  a ``sub``/``add``), and the comparison yields the next mask directly.

Without a C compiler the CPU path falls back to TorchEngine (same results, its speed).

The results are bit-identical to TorchEngine's ideal gate mode (the test suite checks it on
every FP8 unit, exhaustively): the same integer comparisons, evaluated exactly.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch

from ..gen.netlist import CONST0, CONST1, Netlist
from .torch_engine import resolve_device

__all__ = ["FastEngine", "ExhaustiveResult", "SweepFigures", "exhaustive_check", "random_check", "table_golden",
           "format_mismatch", "c_compiler", "triton_source", "TRITON_CHUNK"]

#: input spaces of at most this many bits are checked against a golden table on the device
TABLE_BITS = 16
#: mismatching inputs kept per run (the kernel records this many indices per launch)
KEEP = 16
#: CPU programs of more neurons than this run on TorchEngine: gcc needs minutes for one
#: straight-line function that long (a 64-input dot product: 19,158 neurons, 3.5 min)
CPU_KERNEL_OPS = 8000
#: gcc optimisation levels of the CPU kernel (FastEngine's ``c_opt``)
C_OPT_LEVELS = ("-O2", "-O0")
#: the largest input space an exhaustive check enumerates (index arithmetic in int64)
MAX_SPACE_BITS = 62
#: lanes per launch of an exhaustive check against a golden callback (GPU, CPU)
CHUNK = {"cuda": 1 << 27, "cpu": 1 << 20}
#: lanes per launch of a table check on the GPU: the table never leaves the device, so one
#: launch can cover many sweeps of the space
TABLE_CHUNK = 1 << 30
#: random vectors per chunk of :func:`random_check` (a dot product's 128 buses of 2^22
#: vectors are 2 GB of int32 on the device)
RANDOM_CHUNK = {"cuda": 1 << 22, "cpu": 1 << 16}


def _cache_dir():
    """Where compiled kernels live: ``$SPIKEGATE_CACHE`` or ``~/.cache/spikegate``."""
    root = os.environ.get("SPIKEGATE_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "spikegate")
    path = os.path.join(root, "fast_engine")
    os.makedirs(path, exist_ok=True)
    return path


# -- the netlist as a straight-line program --------------------------------------------------

class _Program:
    """The netlist lowered to straight-line code, shared by the C and Triton generators.

    ``ops`` holds ``(net, terms, k)``: the neuron on ``net`` fires iff
    ``sum(w * x for x, w in terms) >= k`` (constant inputs folded into ``k``; neurons whose
    inputs are all constant become constants). Only what reaches an output is kept, in a
    depth-first order from the outputs, which keeps few signals alive at once (the 64
    multipliers of a dot product are not all evaluated before the first adder).
    ``bound`` is the largest magnitude any partial sum or threshold can reach.
    """

    def __init__(self, netlist: Netlist):
        self.name = netlist.name
        self.inputs = [(bus, tuple(nets)) for bus, nets in netlist.inputs.items()]
        self.outputs = [(bus, tuple(nets)) for bus, nets in netlist.outputs.items()]
        self.in_bits = sum(len(n) for _, n in self.inputs)
        const = {CONST0: 0, CONST1: 1}
        lowered = {}
        for neuron in netlist.neurons:                      # topological order
            k = neuron.threshold - neuron.bias
            terms = {}
            for i, w in zip(neuron.inputs, neuron.weights):
                if i in const:
                    k -= w * const[i]
                elif w:
                    terms[i] = terms.get(i, 0) + w
            terms = {i: w for i, w in terms.items() if w}
            if not terms:
                const[neuron.out] = int(0 >= k)
            else:
                lowered[neuron.out] = (tuple(terms.items()), k)
        self.const = const
        # depth-first schedule from the outputs (iterative: deep netlists exist)
        order, seen = [], set()
        for _, nets in self.outputs:
            for root in nets:
                if root in seen or root not in lowered:
                    continue
                stack = [(root, iter(lowered[root][0]))]
                seen.add(root)
                while stack:
                    net, it = stack[-1]
                    nxt = next(it, None)
                    if nxt is None:
                        stack.pop()
                        order.append(net)
                    elif nxt[0] in lowered and nxt[0] not in seen:
                        seen.add(nxt[0])
                        stack.append((nxt[0], iter(lowered[nxt[0]][0])))
        self.ops = [(net, *lowered[net]) for net in order]
        self.block_of = {n.out: n.block.split("/")[0] for n in netlist.neurons}
        self.used_inputs = {i for _, terms, _ in self.ops for i, _ in terms} | {
            n for _, nets in self.outputs for n in nets if n not in const and n not in lowered}
        self.bound = max([max(sum(abs(w) for _, w in terms), abs(k)) for _, terms, k in self.ops]
                         or [0])
        self.neurons = len(netlist.neurons)

    def bus_width(self, which):
        return max([len(n) for _, n in (self.inputs if which == "in" else self.outputs)] or [1])


# -- CPU: C through ctypes -------------------------------------------------------------------

_C_HEAD = r"""
#include <stdint.h>
#if defined(__AVX512BW__)
#define VB 64
#elif defined(__AVX2__)
#define VB 32
#else
#define VB 16
#endif
typedef {S} V __attribute__((vector_size(VB)));
typedef {U} U __attribute__((vector_size(VB)));
enum {{ L = VB / sizeof({S}) }};

int sg_lanes(void) {{ return L; }}

/* in: n_in rows of bus values (row stride in_stride), or NULL to enumerate the inputs from
   index start (masked by space_mask, first bus in the high bits); out: n_out rows */
void sg_eval(const uint64_t *in, int64_t in_stride, uint64_t *out, int64_t out_stride,
             int64_t n, uint64_t start, uint64_t space_mask)
{{
  for (int64_t i0 = 0; i0 < n; i0 += L) {{
    int64_t m = n - i0 < L ? n - i0 : L;
"""


def _c_source(prog: _Program, bits: int):
    """C source evaluating ``prog`` on ``L`` lanes per vector of ``bits``-bit integers."""
    S, U = {16: ("int16_t", "uint16_t"), 32: ("int32_t", "uint32_t")}[bits]
    lines = [_C_HEAD.format(S=S, U=U)]
    pieces = {}                                  # (bus index, piece) -> variable
    for b, (bus, nets) in enumerate(prog.inputs):
        for p in range(-(-len(nets) // bits)):
            if any(n in prog.used_inputs for n in nets[p * bits:(p + 1) * bits]):
                pieces[(b, p)] = f"p{b}_{p}"
    if pieces:
        lines.append("    U " + ", ".join(pieces.values()) + ";")
    lines.append("    for (int l = 0; l < L; l++) {")
    shift = prog.in_bits
    for b, (bus, nets) in enumerate(prog.inputs):
        shift -= len(nets)
        if not any(k[0] == b for k in pieces):
            continue
        mask = (1 << len(nets)) - 1
        lines.append(f"      uint64_t b{b} = l >= m ? 0 : in ? in[{b} * in_stride + i0 + l] "
                     f": (((start + i0 + l) & space_mask) >> {shift}) & {mask}ull;")
        for p in range(-(-len(nets) // bits)):
            if (b, p) in pieces:
                lines.append(f"      p{b}_{p}[l] = ({U})(b{b} >> {p * bits});")
    lines.append("    }")
    for b, (bus, nets) in enumerate(prog.inputs):
        for j, net in enumerate(nets):
            if net in prog.used_inputs:
                lines.append(f"    V v{net} = -(V)((p{b}_{j // bits} >> {j % bits}) & 1);")
    for net, terms, k in prog.ops:
        parts = []
        for i, w in terms:
            if w == 1:
                parts.append(f"- v{i}")
            elif w == -1:
                parts.append(f"+ v{i}")
            elif w > 0:
                parts.append(f"+ (v{i} & {w})")
            else:
                parts.append(f"- (v{i} & {-w})")
        expr = " ".join(parts).lstrip("+ ")
        if expr.startswith("- "):
            expr = "-" + expr[2:]
        lines.append(f"    V v{net} = ({expr}) >= {k};")
    for o, (bus, nets) in enumerate(prog.outputs):
        n_p = -(-len(nets) // bits)
        for p in range(n_p):
            terms = []
            for j in range(p * bits, min(len(nets), (p + 1) * bits)):
                net, sh = nets[j], j - p * bits
                if net in prog.const:
                    if prog.const[net]:
                        terms.append(f"({U}){1 << sh}u")
                else:
                    terms.append(f"((U)v{net} & {1 << sh}u)")
            lines.append(f"    U y{o}_{p} = " + (" | ".join(terms) or "(U){0}") + ";"
                         if terms else f"    U y{o}_{p} = {{0}};")
        join = " | ".join(f"((uint64_t)y{o}_{p}[l] << {p * bits})" for p in range(n_p))
        lines.append(f"    for (int l = 0; l < m; l++) out[{o} * out_stride + i0 + l] = {join};")
    lines.append("  }\n}\n")
    return "\n".join(lines)


def c_compiler():
    """The C compiler the CPU path uses (``$CC``, ``cc`` or ``gcc``), or None."""
    for cand in (os.environ.get("CC"), "cc", "gcc"):
        if cand and shutil.which(cand):
            return shutil.which(cand)
    return None


_LIB_LOCK = threading.Lock()


def _build_c(source, opt="-O2"):
    """Compile ``source`` into a cached shared library; returns the loaded library."""
    cc = c_compiler()
    flags = [opt, "-march=native", "-shared", "-fPIC", "-fno-strict-aliasing"]
    tag = hashlib.sha256("\0".join([source, cc, *flags, platform.machine(),
                                    platform.node()]).encode()).hexdigest()[:24]
    path = os.path.join(_cache_dir(), f"sg_{tag}.so")
    with _LIB_LOCK:
        if not os.path.exists(path):
            fd, tmp_c = tempfile.mkstemp(suffix=".c", dir=_cache_dir())
            with os.fdopen(fd, "w") as f:
                f.write(source)
            tmp_so = tmp_c[:-2] + ".so"
            try:
                r = subprocess.run([cc, *flags, "-o", tmp_so, tmp_c], capture_output=True,
                                   text=True)
                if r.returncode:
                    raise RuntimeError(f"C compiler failed on the generated kernel "
                                       f"({r.stderr.strip().splitlines()[:1]}): set CC to a "
                                       f"working gcc/clang or use device='cuda'")
                os.replace(tmp_so, path)              # atomic: parallel test workers
            finally:
                for p in (tmp_c, tmp_so):
                    if os.path.exists(p):
                        os.unlink(p)
    lib = ctypes.CDLL(path)
    lib.sg_eval.restype = None
    lib.sg_eval.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                            ctypes.c_int64, ctypes.c_uint64, ctypes.c_uint64]
    lib.sg_lanes.restype = ctypes.c_int
    return lib


class _CKernel:
    def __init__(self, prog: _Program, threads=None, opt="-O2"):
        bits = 16 if prog.bound < (1 << 15) - 1 else 32
        if prog.bound >= (1 << 31) - 1:
            raise ValueError(f"{prog.name}: a neuron sum can reach {prog.bound}, beyond int32: "
                             f"scale its weights down or use TorchEngine")
        self.source = _c_source(prog, bits)
        self.lib = _build_c(self.source, opt)
        self.lanes = self.lib.sg_lanes()
        self.n_in, self.n_out = len(prog.inputs), len(prog.outputs)
        self.threads = threads or max(1, torch.get_num_threads())

    def _call(self, x, out, n, start, mask):
        """One C call per thread over a contiguous share of ``n`` lanes (GIL released)."""
        shares = max(1, min(self.threads, -(-n // (4 * self.lanes))))
        step = -(-n // shares)
        step += -step % self.lanes
        jobs = [(a, min(step, n - a)) for a in range(0, n, step)]

        def one(job):
            a, m = job
            xin = None if x is None else x[:, a:].ctypes.data
            self.lib.sg_eval(xin, 0 if x is None else x.shape[1], out[:, a:].ctypes.data,
                             out.shape[1], m, start + a, mask)

        if len(jobs) == 1:
            one(jobs[0])
        else:
            with ThreadPoolExecutor(len(jobs)) as pool:
                list(pool.map(one, jobs))

    def run(self, x):
        n = x.shape[1]
        out = np.empty((self.n_out, n), np.uint64)
        self._call(np.ascontiguousarray(x, np.uint64), out, n, 0, 0)
        return out

    def enumerate(self, start, n, space_mask):
        out = np.empty((self.n_out, n), np.uint64)
        self._call(None, out, n, start, space_mask)
        return out


# -- GPU: a generated Triton kernel ----------------------------------------------------------

_TRITON_HEAD = '''"""Generated by spikegate.sim.fast_engine from netlist {name!r}: do not edit."""
import triton
import triton.language as tl


@triton.jit
def sg_kernel(in_ptr, in_stride, out_ptr, out_stride, exp_ptr, exp_stride, cnt_ptr,
              first_ptr, start, n, SPACE_MASK: tl.constexpr, MODE: tl.constexpr,
              TABLE: tl.constexpr, NFIRST: tl.constexpr, BLOCK: tl.constexpr):
    # MODE 0: load bus values, store outputs. MODE 1: enumerate inputs from `start`,
    # compare with the golden (TABLE: indexed by input index; else by lane), count.
    pid = tl.program_id(0)
    lane = pid.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = lane < n
'''


#: Terms per expression in the Triton source (wider neurons sum through partial sums).
TRITON_CHUNK = 64


def _triton_neuron(out, terms, k, ind, arith="f32"):
    """Source lines of ``out = [sum(w * x) >= k]`` over ``terms`` ``(variable, w)``. A wide
    neuron sums in chunks through a partial-sum variable: one expression of thousands of
    terms passes Python's parser limits (nesting, recursion)."""
    lines, acc = [], None
    chunks = [terms[i:i + TRITON_CHUNK] for i in range(0, len(terms), TRITON_CHUNK)]
    for c, chunk in enumerate(chunks):
        if arith == "f32":
            for x, w in chunk:
                if acc is None:
                    acc = x if w == 1 else f"-{x}" if w == -1 else f"{x} * {float(w)}"
                elif w == 1:
                    acc = f"{acc} + {x}"
                elif w == -1:
                    acc = f"{acc} - {x}"
                else:
                    acc = f"tl.fma({x}, {float(w)}, {acc})"
        else:
            expr = " + ".join(f"{x} * {w}" if w not in (1, -1) else
                              (x if w == 1 else f"(0 - {x})") for x, w in chunk)
            acc = expr if acc is None else f"{acc} + {expr}"
        if c < len(chunks) - 1:
            lines.append(ind + f"s_{out} = {acc}")
            acc = f"s_{out}"
    if arith == "f32":
        lines.append(ind + f"{out} = ({acc} >= {float(k)}).to(tl.float32)")
    else:
        lines.append(ind + f"{out} = ({acc} >= {k}).to(tl.int32)")
    return lines


def triton_source(netlist: Netlist, arith="f32") -> str:
    """The Triton kernel source the GPU path compiles for ``netlist`` (needs no GPU)."""
    return _triton_source(_Program(netlist), arith)


def _triton_source(prog: _Program, arith="f32"):
    """Python source of a Triton kernel evaluating ``prog`` (one lane per thread)."""
    wide_in = prog.bus_width("in") > 31
    wide_out = prog.bus_width("out") > 31
    it = "tl.int64" if wide_in else "tl.int32"
    ot = "tl.int64" if wide_out else "tl.int32"
    ft = "tl.float32" if arith == "f32" else "tl.int32"
    ind = "    "
    L = [_TRITON_HEAD.format(name=prog.name)]
    used_bus = [b for b, (_, nets) in enumerate(prog.inputs)
                if any(n in prog.used_inputs for n in nets)]
    L.append(ind + "if MODE == 0:")
    for b in used_bus:
        L.append(ind * 2 + f"b{b} = tl.load(in_ptr + {b} * in_stride + lane, mask=m, "
                 f"other=0).to({it})")
    if not used_bus:
        L.append(ind * 2 + "pass")
    L.append(ind + "else:")
    L.append(ind * 2 + "idx = (start + lane) & SPACE_MASK")
    shift = prog.in_bits
    for b, (bus, nets) in enumerate(prog.inputs):
        shift -= len(nets)
        if b in used_bus and prog.in_bits <= MAX_SPACE_BITS:
            L.append(ind * 2 + f"b{b} = ((idx >> {shift}) & {(1 << len(nets)) - 1}).to({it})")
        elif b in used_bus:                     # never enumerated: exhaustive_check refuses
            L.append(ind * 2 + f"b{b} = tl.zeros_like(lane).to({it})")
    for b, (bus, nets) in enumerate(prog.inputs):
        for j, net in enumerate(nets):
            if net in prog.used_inputs:
                L.append(ind + f"v{net} = ((b{b} >> {j}) & 1).to({ft})")
    for net, terms, k in prog.ops:
        L += _triton_neuron(f"v{net}", [(f"v{i}", w) for i, w in terms], k, ind, arith)
    for o, (bus, nets) in enumerate(prog.outputs):
        terms = []
        for j, net in enumerate(nets):
            if net in prog.const:
                if prog.const[net]:
                    terms.append(str(1 << j))
            else:
                terms.append(f"(v{net}.to({ot}) << {j})" if j else f"v{net}.to({ot})")
        L.append(ind + f"y{o} = " + (" | ".join(terms) if terms else f"tl.zeros_like(lane).to({ot})"))
        if not any(net not in prog.const for net in nets):
            L.append(ind + f"y{o} = y{o} + tl.zeros_like(lane).to({ot})")
    L.append(ind + "if MODE == 0:")
    for o in range(len(prog.outputs)):
        L.append(ind * 2 + f"tl.store(out_ptr + {o} * out_stride + lane, y{o}, mask=m)")
    L.append(ind + "else:")
    L.append(ind * 2 + "if TABLE:")
    L.append(ind * 3 + "eoff = idx")
    L.append(ind * 2 + "else:")
    L.append(ind * 3 + "eoff = lane")
    bad = " | ".join(f"(y{o} != tl.load(exp_ptr + {o} * exp_stride + eoff, mask=m, other=0))"
                     for o in range(len(prog.outputs)))
    L.append(ind * 2 + f"bad = ({bad}) & m")
    L.append(ind * 2 + "nbad = tl.sum(bad.to(tl.int32), axis=0)")
    L.append(ind * 2 + "if nbad > 0:")
    L.append(ind * 3 + "slot = tl.atomic_add(cnt_ptr + tl.zeros_like(lane), 1, mask=bad)")
    L.append(ind * 3 + "tl.store(first_ptr + slot, start + lane, mask=bad & (slot < NFIRST))")
    return "\n".join(L) + "\n"


def _load_triton(source, name, function="sg_kernel"):
    """Import the generated kernel from a file (Triton reads a kernel's source from it)."""
    tag = hashlib.sha256(source.encode()).hexdigest()[:24]
    path = os.path.join(_cache_dir(), f"sg_{tag}.py")
    if not os.path.exists(path):
        fd, tmp = tempfile.mkstemp(suffix=".py", dir=_cache_dir())
        with os.fdopen(fd, "w") as f:
            f.write(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(f"spikegate_fast_{tag}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return getattr(module, function)


class _TritonKernel:
    #: lanes per program and warps per program: one lane per thread
    BLOCK, WARPS = 128, 4

    def __init__(self, prog: _Program, device, arith=None, block=None, warps=None):
        try:
            import triton  # noqa: F401
        except ImportError as e:
            raise RuntimeError("the CUDA fast path needs Triton: pip install triton, or use "
                               "device='cpu'") from e
        if arith is None:
            arith = "f32" if prog.bound < (1 << 24) else "i32"
        if prog.bound >= (1 << 31) - 1:
            raise ValueError(f"{prog.name}: a neuron sum can reach {prog.bound}, beyond int32: "
                             f"scale its weights down or use TorchEngine")
        self.arith = arith
        self.source = _triton_source(prog, arith)
        self.kernel = _load_triton(self.source, prog.name)
        self.device = device
        self.block = block or self.BLOCK
        self.warps = warps or self.WARPS
        self.in_dtype = torch.int64 if prog.bus_width("in") > 31 else torch.int32
        self.out_dtype = torch.int64 if prog.bus_width("out") > 31 else torch.int32
        self.n_in, self.n_out = len(prog.inputs), len(prog.outputs)
        self._dummy = torch.zeros(1, dtype=self.in_dtype, device=device)
        self._cnt = torch.zeros(1, dtype=torch.int32, device=device)
        self._first = torch.zeros(KEEP, dtype=torch.int64, device=device)

    def _grid(self, n):
        return (triton_cdiv(n, self.block),)

    def run(self, x):
        """``x``: (n_in, N) tensor on the device -> (n_out, N) outputs on the device."""
        n = x.shape[1]
        out = torch.empty((self.n_out, n), dtype=self.out_dtype, device=self.device)
        if n:
            self.kernel[self._grid(n)](x, x.stride(0), out, out.stride(0), self._dummy, 0,
                                       self._cnt, self._first, 0, n, SPACE_MASK=0, MODE=0,
                                       TABLE=False, NFIRST=KEEP, BLOCK=self.block,
                                       num_warps=self.warps)
        return out

    def check(self, start, n, space_mask, expected, table):
        """Enumerate ``n`` inputs from ``start``; compare; returns (count, first) tensors
        (on the device: read them after the sweep, so launches stay asynchronous)."""
        cnt = torch.zeros(1, dtype=torch.int32, device=self.device)
        first = torch.full((KEEP,), -1, dtype=torch.int64, device=self.device)
        self.kernel[self._grid(n)](self._dummy, 0, self._dummy, 0, expected,
                                   expected.stride(0), cnt, first, start, n,
                                   SPACE_MASK=space_mask, MODE=1, TABLE=table, NFIRST=KEEP,
                                   BLOCK=self.block, num_warps=self.warps)
        return cnt, first


def triton_cdiv(a, b):
    return -(-a // b)


#: programs of more neurons than this are evaluated block by block (see _TiledKernel):
#: Triton's compile time grows faster than linearly with the kernel's length
SINGLE_KERNEL_OPS = 6000

_TILE_HEAD = '''"""Generated by spikegate.sim.fast_engine: a block template of netlist {name!r}."""
import triton
import triton.language as tl


@triton.jit
def sg_tile(s_ptr, stride, rows_ptr, n, NROWS: tl.constexpr, BLOCK: tl.constexpr):
    # BLOCK lanes of copy program_id(1) of this block; its signal rows (external inputs,
    # then exports) come from rows_ptr
    pid = tl.program_id(0)
    c = tl.program_id(1)
    lane = pid.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    m = lane < n
    base = rows_ptr + c * NROWS
'''


def _blocks(prog: _Program):
    """Split ``prog`` by top-level block; group isomorphic blocks into templates.

    Returns ``(templates, groups)``: ``templates[t] = (ops, n_ext, exports)`` in canonical
    names (``e<i>`` external inputs in order of first use, ``i<j>`` the block's own
    signals), and ``groups`` a list of ``(template, [(ext nets, export nets)...])`` in an
    order that respects dependencies (one launch each).
    """
    owner, by_block = {}, {}
    for op in prog.ops:
        blk = prog.block_of[op[0]]
        owner[op[0]] = blk
        by_block.setdefault(blk, []).append(op)
    used_outside = {n for _, nets in prog.outputs for n in nets}
    for blk, ops in by_block.items():
        for _, terms, _ in ops:
            for i, _ in terms:
                if i in owner and owner[i] != blk:
                    used_outside.add(i)
    templates, tindex, groups, exts = [], {}, {}, {}
    for blk, ops in by_block.items():
        canon, ext = {}, []
        for j, (net, _, _) in enumerate(ops):
            canon[net] = f"i{j}"
        cops = []
        for net, terms, k in ops:
            ct = []
            for i, w in terms:
                if i not in canon:
                    canon[i] = f"e{len(ext)}"
                    ext.append(i)
                ct.append((canon[i], w))
            cops.append((canon[net], tuple(ct), k))
        exports = [net for net, _, _ in ops if net in used_outside]
        sig = (tuple(cops), len(ext), tuple(canon[x] for x in exports))
        if sig not in tindex:
            tindex[sig] = len(templates)
            templates.append(sig)
        exts[blk] = (tindex[sig], tuple(ext), tuple(exports))
    deps = {blk: {owner[i] for i in ext if i in owner} for blk, (_, ext, _) in exts.items()}
    stage, open_ = {}, set()
    for root in deps:                       # longest path from the inputs (iterative DFS)
        if root in stage:
            continue
        stack = [(root, iter(deps[root]))]
        open_.add(root)
        while stack:
            blk, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                open_.discard(blk)
                stage[blk] = 1 + max([stage[d] for d in deps[blk]] or [0])
            elif nxt in open_:
                raise ValueError("blocks depend on each other both ways")
            elif nxt not in stage:
                open_.add(nxt)
                stack.append((nxt, iter(deps[nxt])))
    for blk, (t, ext, exports) in exts.items():
        groups.setdefault((stage[blk], t), []).append((ext, exports))
    return templates, [(t, groups[(st, t)]) for st, t in sorted(groups)]


def _tile_source(name, template):
    ops, n_ext, exports = template
    ind = "    "
    L = [_TILE_HEAD.format(name=name)]
    for e in range(n_ext):
        L.append(ind + f"e{e} = tl.load(s_ptr + tl.load(base + {e}).to(tl.int64) * stride + "
                 f"lane, mask=m, other=0).to(tl.float32)")
    for net, terms, k in ops:
        L += _triton_neuron(net, terms, k, ind)
    for j, x in enumerate(exports):
        L.append(ind + f"tl.store(s_ptr + tl.load(base + {n_ext + j}).to(tl.int64) * stride"
                 f" + lane, {x}.to(tl.int8), mask=m)")
    return "\n".join(L) + "\n"


class _TiledKernel:
    """A large netlist of repeated blocks (a dot product's multipliers and adders): one
    small kernel per distinct block, one launch per dependency stage and template over all
    its copies at once; signals between blocks pass through one int8 row per net."""

    BLOCK, WARPS = 128, 4
    #: bytes of signal rows per pass
    BUDGET = 1 << 31

    def __init__(self, prog: _Program, device, block=None, warps=None):
        if prog.bound >= (1 << 24):
            raise ValueError(f"{prog.name}: a neuron sum can reach {prog.bound}: too large "
                             f"for the block-wise GPU path; use TorchEngine")
        templates, groups = _blocks(prog)
        self.device = device
        self.block, self.warps = block or self.BLOCK, warps or self.WARPS
        sources = [_tile_source(prog.name, t) for t in templates]
        self.kernels = [_load_triton(src, prog.name, "sg_tile") for src in sources]
        self.source = "\n\n".join(sources)
        row, r = {}, 0
        for _, nets in prog.inputs:
            for net in nets:
                row[net] = r
                r += 1
        self.in_widths = [len(nets) for _, nets in prog.inputs]
        self.launches = []
        for t, copies in groups:
            tab = []
            for ext, exports in copies:
                for x in exports:
                    row[x] = r
                    r += 1
                tab.append([row[e] for e in ext] + [row[x] for x in exports])
            rows = torch.tensor(tab, dtype=torch.int32, device=device)
            self.launches.append((self.kernels[t], rows, len(copies), rows.shape[1]))
        self.rows = r
        self.outputs = [[(j, None if n in prog.const else row[n]) for j, n in enumerate(nets)
                         if n not in prog.const or prog.const[n]]
                        for _, nets in prog.outputs]
        self.in_dtype = torch.int64 if prog.bus_width("in") > 31 else torch.int32
        self.out_dtype = torch.int64 if prog.bus_width("out") > 31 else torch.int32
        self.n_out = len(prog.outputs)

    def run(self, x):
        n = x.shape[1]
        out = torch.empty((self.n_out, n), dtype=self.out_dtype, device=self.device)
        step = max(self.block, self.BUDGET // max(self.rows, 1))
        step -= step % self.block
        w = self.in_widths
        for a in range(0, n, step):
            xs = x[:, a:a + step]
            m = xs.shape[1]
            S = torch.empty((self.rows, m), dtype=torch.int8, device=self.device)
            if w and all(v == w[0] for v in w):
                if w[0] <= 8:                       # bytes: a quarter of the temporaries
                    xs = xs.to(torch.uint8)
                sh = torch.arange(w[0], device=self.device, dtype=xs.dtype)
                S[:sum(w)] = ((xs[:, None, :] >> sh[None, :, None]) & 1).to(torch.int8) \
                    .reshape(-1, m)
            else:
                r = 0
                for b, v in enumerate(w):
                    sh = torch.arange(v, device=self.device, dtype=xs.dtype)
                    S[r:r + v] = ((xs[b][None, :] >> sh[:, None]) & 1).to(torch.int8)
                    r += v
            for kernel, rows, copies, nrows in self.launches:
                kernel[(triton_cdiv(m, self.block), copies)](
                    S, S.stride(0), rows, m, NROWS=nrows, BLOCK=self.block,
                    num_warps=self.warps)
            for o, bits in enumerate(self.outputs):
                y = torch.zeros(m, dtype=self.out_dtype, device=self.device)
                for j, r in bits:
                    y |= (1 << j) if r is None else (S[r].to(self.out_dtype) << j)
                out[o, a:a + m] = y
        return out


# -- the engine --------------------------------------------------------------------------

class FastEngine:
    """Evaluate an ideal threshold netlist with a kernel generated for it.

    Parameters
    ----------
    netlist : Netlist
    device : str or None
        ``"cpu"`` or ``"cuda"``; None picks CUDA when torch sees a GPU, else the CPU.
    threads : int or None
        CPU threads (default: torch's thread count).
    arith : {"f32", "i32"} or None
        GPU arithmetic of the neuron sums (default: float32 when exact, else int32).
    c_ops : int
        Largest program compiled to C on the CPU (larger ones run on TorchEngine): gcc
        takes about a minute for 12,000 neurons at ``-O2``.
    c_opt : {"-O2", "-O0"}
        gcc's optimisation level: ``-O0`` compiles a 10,000-neuron kernel in 5 s instead of
        a minute and runs about 8x slower (FP32 tanh: 0.07M vectors/s per thread against
        0.6M): the choice for up to a few million vectors; ``-O2`` for sweeps.

    Only the ideal gate mode is here: noise, threshold variation, faults and temporal
    mode stay in :class:`~spikegate.sim.torch_engine.TorchEngine`, whose outputs this
    engine reproduces bit for bit.
    """

    def __init__(self, netlist: Netlist, *, device=None, threads=None, arith=None,
                 block=None, warps=None, tiled=None, c_ops=CPU_KERNEL_OPS, c_opt="-O2"):
        if not isinstance(netlist, Netlist):
            raise TypeError(f"netlist must be a Netlist, not {netlist!r}")
        if c_opt not in C_OPT_LEVELS:
            raise ValueError(f"c_opt must be one of {', '.join(C_OPT_LEVELS)}, not {c_opt!r}")
        self.netlist = netlist
        self.device = torch.device(resolve_device(device))
        self.program = _Program(netlist)
        self.backend = None
        if self.device.type == "cuda" and tiled is None:
            tiled = len(self.program.ops) > SINGLE_KERNEL_OPS
        if self.device.type == "cuda" and tiled:
            try:
                self.kernel = _TiledKernel(self.program, self.device, block, warps)
                self.backend = "triton-blocks"
            except ValueError:              # blocks feed each other both ways: one kernel
                tiled = False
        if self.device.type == "cuda":
            if not tiled:
                self.kernel = _TritonKernel(self.program, self.device, arith, block, warps)
                self.backend = "triton"
        elif c_compiler() is not None and len(self.program.ops) <= c_ops:
            self.kernel = _CKernel(self.program, threads, c_opt)
            self.backend = "c"
        else:
            from .torch_engine import TorchEngine
            if c_compiler() is None:
                warnings.warn("no C compiler found (cc/gcc): the CPU fast path falls back to "
                              "TorchEngine; install gcc for its speed", RuntimeWarning,
                              stacklevel=2)
            self.kernel = TorchEngine(netlist, device="cpu")
            self.backend = "torch"

    @property
    def source(self):
        """The generated kernel source (C or Triton Python)."""
        return getattr(self.kernel, "source", None)

    # -- plain evaluation ----------------------------------------------------------------
    def _stack(self, inputs):
        missing = set(self.netlist.inputs) - set(inputs)
        if missing:
            raise ValueError(f"missing input buses {sorted(missing)}: give a value array for "
                             f"every input of {self.netlist.name!r}")
        arrays = [np.asarray(inputs[bus]).reshape(-1) for bus in self.netlist.inputs]
        lengths = {bus: len(a) for bus, a in zip(self.netlist.inputs, arrays)}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"input buses have different lengths {lengths}: give one value "
                             f"per vector on every bus")
        n = next(iter(lengths.values()), 0)
        return arrays, n

    def run(self, inputs: dict) -> dict:
        """Bus name -> integer array in; bus name -> numpy uint64 array out (as TorchEngine)."""
        arrays, n = self._stack(inputs)
        if self.backend == "torch":
            return self.kernel.run(dict(zip(self.netlist.inputs, arrays)))
        if self.backend == "c":
            x = np.empty((len(arrays), n), np.uint64)
            for r, a in enumerate(arrays):
                x[r] = a.astype(np.uint64, copy=False)
            y = self.kernel.run(x)
        else:
            # across the bus in the narrowest type that holds every bus (a dot product's
            # bytes as uint8: 8x less than int64), widened on the device
            wide = self.program.bus_width("in")
            np_dt = np.uint8 if wide <= 8 else np.int32 if wide <= 31 else np.int64
            x = np.empty((len(arrays), n), np_dt)
            for r, a in enumerate(arrays):
                x[r] = a.astype(np.uint64, copy=False).view(np.int64) if np_dt == np.int64 \
                    else a
            x = torch.from_numpy(x).to(self.device).to(self.kernel.in_dtype)
            y = self.run_tensor(x).cpu().numpy()
            y = y.astype(np.int64).view(np.uint64) if y.dtype != np.int64 else y.view(np.uint64)
            if self.kernel.out_dtype == torch.int32:
                y = y & np.uint64(0xFFFFFFFF)
        return {bus: y[o].copy() for o, bus in enumerate(self.netlist.outputs)}

    def run_tensor(self, x):
        """Device-resident evaluation: ``x`` (input buses x vectors, int32/int64, on the
        device) -> (output buses x vectors) on the device. For benchmarks and callers that
        keep their data on the GPU; :meth:`run` adds the host transfers."""
        if not self.backend.startswith("triton"):
            y = self.kernel.run(x.cpu().numpy().astype(np.uint64)) if self.backend == "c" \
                else None
            if y is None:
                raise RuntimeError("run_tensor needs the C or CUDA backend: install gcc")
            return torch.from_numpy(y.view(np.int64))
        return self.kernel.run(x.to(self.kernel.in_dtype).contiguous())

    # -- exhaustive checks ---------------------------------------------------------------
    @property
    def space_bits(self):
        return self.program.in_bits

    def inputs_at(self, index):
        """Input bus values of the exhaustive index (or array of indices): first bus slowest."""
        index = np.asarray(index, dtype=np.uint64)
        out, shift = {}, self.program.in_bits
        for bus, nets in self.program.inputs:
            shift -= len(nets)
            out[bus] = (index >> np.uint64(shift)) & np.uint64((1 << len(nets)) - 1)
        return out


class SweepFigures:
    """What a sweep's result derives from its ``count`` of failures, ``total`` vectors,
    ``seconds`` and ``first`` kept failures (shared by :class:`ExhaustiveResult` and
    :class:`~.function_sweep.FunctionSweepResult`)."""

    @property
    def ok(self):
        return self.count == 0

    @property
    def pairs_per_s(self):
        return self.total / self.seconds if self.seconds > 0 else float("inf")

    def with_mismatches(self, head):
        """``head``, then one line per kept failure, in hex."""
        return "\n".join([head] + [format_mismatch(*m) for m in self.first])


@dataclass
class ExhaustiveResult(SweepFigures):
    """Outcome of :func:`exhaustive_check` (or of :func:`random_check`: ``total`` vectors).

    ``count`` mismatching vectors out of ``total`` checked; ``first`` holds up to ``keep``
    of them as ``(inputs, got, expected)`` dicts of bus integers, smallest index first
    (the smallest ones when fewer than 16 mismatch per launch; otherwise some of each
    launch's). ``seconds`` is the sweep's wall time, golden included.
    """

    netlist: str
    count: int
    total: int
    first: list = field(default_factory=list)
    seconds: float = 0.0
    device: str = "cpu"
    backend: str = ""

    def describe(self):
        """One line per kept mismatch, in hex, after a summary line."""
        return self.with_mismatches(f"{self.netlist}: {self.count:,} mismatches in "
                                    f"{self.total:,} vectors ({self.device}, "
                                    f"{self.seconds:.3f} s)")

    __str__ = describe


def format_mismatch(inputs, got, expected):
    """``a=0x3c b=0x41: got y=0x12, expected y=0x13`` (every bus in hex)."""
    def hx(d):
        return " ".join(f"{k}={int(v):#x}" for k, v in d.items())
    return f"{hx(inputs)}: got {hx(got)}, expected {hx(expected)}"


def table_golden(netlist: Netlist, tables: dict):
    """A golden callable from per-output tables indexed by the exhaustive input index."""
    def golden(inputs):
        index = None
        shift = 0
        for bus, nets in reversed(list(netlist.inputs.items())):
            v = inputs[bus].to(torch.int64) << shift
            index = v if index is None else index | v
            shift += len(nets)
        return {bus: torch.as_tensor(np.asarray(t).astype(np.int64), device=index.device)[index]
                for bus, t in tables.items()}
    return golden


def _normalise(expected, netlist, n, device):
    """Golden outputs -> (n_out, n) int32/int64 tensor of the bus bit patterns."""
    outs = list(netlist.outputs.items())
    if not isinstance(expected, dict):
        if len(outs) != 1:
            raise ValueError(f"golden returned one tensor, but {netlist.name!r} has outputs "
                             f"{[b for b, _ in outs]}: return a dict bus -> tensor")
        expected = {outs[0][0]: expected}
    wide = max(len(nets) for _, nets in outs) > 31
    rows = []
    for bus, nets in outs:
        if bus not in expected:
            raise ValueError(f"golden gave no output {bus!r}: return every output bus of "
                             f"{netlist.name!r}")
        t = torch.as_tensor(expected[bus], device=device).reshape(-1)
        if t.numel() != n:
            raise ValueError(f"golden output {bus!r} has {t.numel()} values for {n} inputs: "
                             f"return one value per input vector")
        t = t.to(torch.int64) & ((1 << len(nets)) - 1)        # bit patterns (int16 views...)
        rows.append(t)
    out = torch.stack(rows)
    return out if wide else out.to(torch.int32)


def exhaustive_check(netlist: Netlist, golden, *, device=None, chunk=None, start=0,
                     stop=None, repeat=1, progress=None, engine=None, keep=KEEP):
    """Run every input combination of ``netlist`` (or ``[start, stop)`` of them) against
    ``golden`` and count mismatches, keeping the first few.

    Parameters
    ----------
    golden : callable or dict
        ``golden(inputs)`` maps a dict bus -> int64 tensor of input values (on the device)
        to expected outputs (a dict bus -> tensor, or one tensor for a single output); or a
        dict bus -> table indexed by the exhaustive index (first bus slowest). For spaces
        of up to 16 input bits the golden is evaluated once into a table that stays on the
        device; for larger ones it runs chunk by chunk beside the kernel.
    device : str or None
        As :class:`FastEngine`; None picks CUDA when available.
    chunk : int or None
        Vectors per kernel launch (and per golden call).
    start, stop : int
        The index range (default: the whole space).
    repeat : int
        Sweep the range this many times (benchmarks: more work per run than a small space).
    progress : callable or None
        Called as ``progress(done, total)`` after each chunk.

    Returns
    -------
    ExhaustiveResult
    """
    eng = engine or FastEngine(netlist, device=device)
    if eng.backend == "triton-blocks":
        raise ValueError(f"{netlist.name} runs block by block on the GPU, which has no "
                         f"exhaustive mode: build the engine with tiled=False")
    dev = eng.device
    bits = eng.space_bits
    if bits > MAX_SPACE_BITS:
        raise ValueError(f"{netlist.name} has {bits} input bits: too many to enumerate "
                         f"(at most {MAX_SPACE_BITS}); check random vectors with run()")
    space = 1 << bits
    stop = space if stop is None else stop
    if not 0 <= start <= stop <= space:
        raise ValueError(f"need 0 <= start <= stop <= 2**{bits}, got start={start} "
                         f"stop={stop}: give a range inside the input space")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a positive int, not {repeat!r}")
    total = (stop - start) * repeat
    if isinstance(golden, dict):
        tables = golden
        golden = table_golden(netlist, tables)
    t0 = time.perf_counter()

    def call_golden(lo, n, idx=None):
        if idx is None:
            idx = (torch.arange(n, dtype=torch.int64, device=dev) + lo) & (space - 1)
        inputs, shift = {}, bits
        for bus, nets in netlist.inputs.items():
            shift -= len(nets)
            inputs[bus] = (idx >> shift) & ((1 << len(nets)) - 1)
        with torch.no_grad():
            return _normalise(golden(inputs), netlist, n, dev)

    table = call_golden(0, space).contiguous() if bits <= TABLE_BITS else None
    kind = dev.type
    counts, firsts = [], []
    done = 0
    if eng.backend == "triton":
        if table is not None:
            step = chunk or TABLE_CHUNK
            # sweeps wrap around the space: index & (space - 1) picks the inputs
            lo = start
            while done < total:
                n = min(step, total - done)
                if repeat == 1:
                    n = min(n, stop - lo)
                cnt, first = eng.kernel.check(lo, n, space - 1, table, True)
                counts.append(cnt)
                firsts.append(first)
                done += n
                lo = start + done % (stop - start) if repeat > 1 else lo + n
                if progress:
                    progress(done, total)
        else:
            step = chunk or CHUNK[kind]
            for _ in range(repeat):
                for lo in range(start, stop, step):
                    n = min(step, stop - lo)
                    exp = call_golden(lo, n)
                    cnt, first = eng.kernel.check(lo, n, space - 1, exp, False)
                    counts.append(cnt)
                    firsts.append(first)
                    done += n
                    if progress:
                        progress(done, total)
        torch.cuda.synchronize(dev)
        count = int(sum(int(c.item()) for c in counts))
        found = sorted({int(i) for f in firsts for i in f.tolist() if i >= 0})
    else:
        step = chunk or CHUNK["cpu"]
        count, found = 0, []
        for _ in range(repeat):
            for lo in range(start, stop, step):
                n = min(step, stop - lo)
                got = _cpu_outputs(eng, lo, n, space)
                exp = (table[:, lo:lo + n] if table is not None else call_golden(lo, n)).numpy()
                bad = np.flatnonzero((got.astype(np.int64) != exp).any(0))
                count += len(bad)
                if len(found) < keep:
                    found += [lo + int(i) for i in bad[:keep - len(found)]]
                done += n
                if progress:
                    progress(done, total)
        found = sorted(set(found))
    seconds = time.perf_counter() - t0
    found = [i % space for i in found][:keep]
    first = []
    if found:
        idx = np.array(found, dtype=np.uint64)
        ins = eng.inputs_at(idx)
        got = eng.run(ins)
        at = torch.as_tensor(idx.astype(np.int64), device=dev)
        exp = (call_golden(0, len(found), at) if table is None else table[:, at]).cpu().numpy()
        for j in range(len(found)):
            first.append(({b: int(v[j]) for b, v in ins.items()},
                          {b: int(v[j]) for b, v in got.items()},
                          {b: int(exp[o][j]) for o, b in enumerate(netlist.outputs)}))
    return ExhaustiveResult(netlist.name, count, total, first, seconds, str(dev), eng.backend)


def random_check(netlist: Netlist, golden, *, vectors, device=None, chunk=None, seed=0,
                 engine=None, keep=KEEP, progress=None):
    """``vectors`` seeded random input vectors (uniform bit patterns on every bus) against
    ``golden``, generated, evaluated and compared where the kernel runs: on a GPU only the
    mismatch count and the first mismatches cross the bus.

    For input spaces too large to enumerate (a 64-input dot product reads 1,024 bits);
    ``golden`` is a callable as for :func:`exhaustive_check` (a dict bus -> int64 tensor on
    the device in, expected outputs out). Any backend: the block-wise GPU path included.
    The vectors depend only on ``seed`` and ``chunk``. Returns an :class:`ExhaustiveResult`.
    """
    if isinstance(vectors, bool) or not isinstance(vectors, int) or vectors < 1:
        raise ValueError(f"vectors must be a positive int, not {vectors!r}")
    eng = engine or FastEngine(netlist, device=device)
    dev = eng.device
    if any(len(nets) > MAX_SPACE_BITS for nets in netlist.inputs.values()):
        raise ValueError(f"{netlist.name} has an input bus wider than {MAX_SPACE_BITS} bits: "
                         f"random_check draws int64 values per bus")
    step = chunk or RANDOM_CHUNK[dev.type]
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    t0 = time.perf_counter()
    counts, first, done = [], [], 0
    while done < vectors:
        n = min(step, vectors - done)
        x = torch.stack([torch.randint(0, 1 << len(nets), (n,), generator=gen, device=dev,
                                       dtype=torch.int64)
                         for nets in netlist.inputs.values()])
        inputs = dict(zip(netlist.inputs, x))
        with torch.no_grad():
            exp = _normalise(golden(inputs), netlist, n, dev)
            got = _outputs_tensor(eng, x).to(exp.dtype)
            bad = (got != exp).any(0)
            counts.append(bad.sum())
            if len(first) < keep:
                at = torch.nonzero(bad).reshape(-1)[:keep - len(first)].cpu().tolist()
                for j in at:
                    first.append(({b: int(x[r, j]) for r, b in enumerate(netlist.inputs)},
                                  {b: int(got[o, j]) for o, b in enumerate(netlist.outputs)},
                                  {b: int(exp[o, j]) for o, b in enumerate(netlist.outputs)}))
        done += n
        if progress:
            progress(done, vectors)
    count = int(sum(int(c) for c in counts))
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    return ExhaustiveResult(netlist.name, count, vectors, first, time.perf_counter() - t0,
                            str(dev), eng.backend)


def _outputs_tensor(eng, x):
    """(n_out, n) int64 outputs of the input tensor ``x`` (n_in, n), on ``x``'s device."""
    if eng.backend.startswith("triton"):
        return eng.run_tensor(x).to(torch.int64)
    if eng.backend == "c":
        return torch.from_numpy(eng.kernel.run(x.numpy().astype(np.uint64)).view(np.int64))
    y = eng.kernel.run({b: x[r].numpy().astype(np.uint64)
                        for r, b in enumerate(eng.netlist.inputs)})
    return torch.from_numpy(np.stack([y[b] for b in eng.netlist.outputs]).view(np.int64))


def _cpu_outputs(eng, lo, n, space):
    """(n_out, n) outputs of the exhaustive indices ``lo .. lo + n - 1`` on the CPU."""
    if eng.backend == "c":
        return eng.kernel.enumerate(lo, n, space - 1)
    ins = eng.inputs_at(np.arange(lo, lo + n, dtype=np.uint64))
    y = eng.run(ins)
    return np.stack([y[b] for b in eng.netlist.outputs])
