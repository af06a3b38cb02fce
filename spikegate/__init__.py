"""spikegate: synthesizable Verilog built from integrate-and-fire neurons.

The sub-packages live in the repository's top-level folders and are mapped here by
``pyproject.toml``: :mod:`spikegate.golden` (reference models), :mod:`spikegate.gen`
(neuron netlists), :mod:`spikegate.hdl` (Amaranth RTL), :mod:`spikegate.sim` (engines).
"""

__version__ = "0.1.0"
