"""What a time-multiplexed vector unit (RMSNorm, LayerNorm, softmax) is made of: its
combinational neuron datapaths and the program its stream control steps through them.

A vector of ``N`` elements arrives as ``G = N / P`` beats of ``P`` lanes (one code of each
port per lane) and leaves as ``G`` beats of ``P`` outputs. The program is a list of steps
over named registers (:class:`Step`):

* ``pass``: ``G`` cycles; datapath ``part`` reads the accumulator register ``out``, the
  beat's ``x`` lanes (from the input stream -- then the beat is also stored in the element
  buffer -- or from the buffer) and the registers ``reads``, and its ``y`` is the new
  accumulator;
* ``step``: one cycle, ``out <= part(reads)``;
* ``emit``: ``G`` beats out, ``y0..y{P-1} = part(reads, the buffered beat's lanes)``.

Every register starts a vector at its ``init`` code. :mod:`spikegate.hdl.vector_stream`
builds the hardware, :mod:`spikegate.sim.vector_stream_check` runs the same program on the
torch engine and the Verilog against the golden in the stream's order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..golden.norms import check_lanes

__all__ = ["Step", "StreamParts", "check_lanes", "MAX_STREAM_N"]

#: Largest streamed N (the element buffer holds N/P beats).
MAX_STREAM_N = 1 << 16


@dataclass(frozen=True)
class Step:
    """One step of the control's program (see the module doc)."""

    kind: str                      # "pass", "step" or "emit"
    part: str                      # the datapath it runs
    out: str | None = None         # the register it writes (pass: its accumulator)
    reads: tuple = ()              # registers the datapath reads
    source: str = "buffer"         # pass: "input" (the stream, stored) or "buffer"

    def __post_init__(self):
        if self.kind not in ("pass", "step", "emit"):
            raise ValueError(f"unknown step kind {self.kind!r}")
        if self.source not in ("input", "buffer"):
            raise ValueError(f"a pass reads the input or the buffer, not {self.source!r}")


@dataclass
class StreamParts:
    """A streamed vector unit: ``parts`` (name -> combinational netlist), ``registers``
    (name -> (width, init code)), the ``program`` (first step: a pass over the input),
    and ``meta`` (what the golden needs: eps, policy, internal format)."""

    name: str
    fmt: str
    n: int
    lanes: int
    ports: tuple
    registers: dict
    program: tuple
    parts: dict
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.program or self.program[0].kind != "pass" or \
                self.program[0].source != "input":
            raise ValueError("a stream program starts with a pass over the input")
        if self.program[-1].kind != "emit" or sum(s.kind == "emit" for s in self.program) != 1:
            raise ValueError("a stream program ends with its one emit step")
        for s in self.program:
            if s.part not in self.parts:
                raise ValueError(f"step {s} runs no datapath of {sorted(self.parts)}")
            for r in s.reads + ((s.out,) if s.out else ()):
                if r not in self.registers:
                    raise ValueError(f"step {s} uses an unknown register {r!r}")

    @property
    def beats(self) -> int:
        return self.n // self.lanes

    @property
    def cycles_per_vector(self) -> int:
        """Cycles a vector occupies the unit, without stalls."""
        return sum(self.beats if s.kind != "step" else 1 for s in self.program)

    @property
    def latency(self) -> int:
        """Cycles from the last input beat to the first output beat."""
        return sum(self.beats if s.kind == "pass" else 1 for s in self.program[1:-1]) or 1
