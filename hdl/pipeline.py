"""Where pipeline registers go: cut the neuron levels into balanced stages.

With ``stages = K`` the ``D`` neuron levels are cut after levels ``round(i * D / K)``,
``i = 1 .. K``; the last cut sits on the outputs, so one stage means registered outputs and
latency equals K. A net computed in stage ``s`` and read in stage ``t`` passes through
``t - s`` registers.
"""

from __future__ import annotations

__all__ = ["cut_levels", "stage_of_level", "levels_per_stage_to_stages"]


def cut_levels(depth, stages):
    if isinstance(stages, bool) or not isinstance(stages, int) or stages < 0:
        raise ValueError(f"stages must be a non-negative int, not {stages!r}")
    return [round(i * depth / stages) for i in range(1, stages + 1)]


def stage_of_level(level, cuts):
    """The stage whose logic computes a net of this level (inputs: stage 0)."""
    return sum(1 for c in cuts if c < level)


def levels_per_stage_to_stages(depth, levels_per_stage):
    """Registers every ``k`` neuron levels, as a stage count (outputs registered)."""
    if isinstance(levels_per_stage, bool) or not isinstance(levels_per_stage, int) \
            or levels_per_stage < 1:
        raise ValueError(f"levels_per_stage must be a positive int, not {levels_per_stage!r}")
    return max(1, -(-depth // levels_per_stage))
