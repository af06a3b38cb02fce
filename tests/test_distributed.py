"""Exhaustive sweeps sharded with torch.distributed: 2 CPU processes with gloo give exactly
the single-process result (counts and first mismatches), broken design included."""

import json

import pytest

from spikegate.cli import main
from spikegate.gen.netlist import Netlist
from spikegate.sim.distributed import shard, spawn_sweep
from spikegate.sim.exhaustive import exhaustive_sweep
from spikegate.sim.fast_engine import format_mismatch
from spikegate.sim.units import build_unit


@pytest.mark.parametrize("start,stop,world", [(0, 65536, 2), (5, 1000, 3), (0, 7, 8)])
def test_shards_cover_the_range_once(start, stop, world):
    slices = [shard(start, stop, r, world) for r in range(world)]
    assert slices[0][0] == start and slices[-1][1] == stop
    assert all(a[1] == b[0] for a, b in zip(slices, slices[1:]))


def _broken(netlist):
    spec = netlist.to_dict()
    spec["neurons"][-3]["threshold"] += 1
    broken = Netlist.from_dict(spec)
    broken.meta.update(netlist.meta)
    return broken


@pytest.mark.parametrize("broken", [False, True])
def test_two_gloo_ranks_equal_one_process(broken):
    netlist = build_unit("fmul", fmt="e5m2")
    if broken:
        netlist = _broken(netlist)
    single = exhaustive_sweep(netlist, device="cpu")
    multi = spawn_sweep(netlist, world=2)
    assert (multi.device, multi.backend, multi.total) == ("2 ranks (gloo)", "gloo", 65536)
    assert multi.count == single.count and (multi.count > 0) == broken
    got = [format_mismatch(*m) for m in multi.first]
    assert len(got) == min(5, single.count)
    assert got == [format_mismatch(*m) for m in single.first][:len(got)]


def test_verify_gpus_on_cpu_processes(tmp_path, capsys):
    out = tmp_path / "add"
    assert main(["generate", "fadd", "--format", "e5m2", "-o", str(out), "--quiet"]) == 0
    assert main(["verify", str(out), "--exhaustive", "--gpus", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pass"] and result["vectors"] == 65536 and "2 ranks (gloo)" in result["sim"]
    assert main(["verify", str(out), "--exhaustive", "--gpus", "0"]) == 2
