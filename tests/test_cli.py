"""The spikegate command: generate, verify, and one-line errors that name the fix."""

import json

import pytest

from spikegate.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert "spikegate 0.1.0" in capsys.readouterr().out


def test_generate_then_verify_on_torch(tmp_path, capsys):
    out = tmp_path / "add"
    assert main(["generate", "add", "--width", "4", "--stages", "1", "-o", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["latency_cycles"] == 1 and report["unit"] == "add"
    assert main(["verify", str(out), "--sim", "torch"]) == 0
    assert "PASS add_w4_auto on torch: 512 vectors bit-exact" in capsys.readouterr().out


def test_generate_refuses_existing_directory(tmp_path, capsys):
    out = tmp_path / "x"
    assert main(["generate", "and", "-o", str(out)]) == 0
    assert main(["generate", "and", "-o", str(out)]) == 2
    assert "exists and is not empty: pass --force" in capsys.readouterr().err
    assert main(["generate", "and", "-o", str(out), "--force"]) == 0


def test_unknown_simulator(tmp_path, capsys):
    out = tmp_path / "x"
    main(["generate", "and", "-o", str(out)])
    assert main(["verify", str(out), "--sim", "modelsim"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("spikegate: error: unknown simulator 'modelsim': choose one of "
                           "torch, amaranth, icarus, verilator")


def test_missing_iverilog_names_the_fix(tmp_path, capsys, monkeypatch):
    out = tmp_path / "x"
    main(["generate", "and", "-o", str(out)])
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["verify", str(out), "--sim", "icarus"]) == 2
    err = capsys.readouterr().err
    assert "iverilog not found on PATH" in err and "apt-get install iverilog" in err


def test_bounds_too_small_is_one_line(tmp_path, capsys):
    assert main(["generate", "add", "--variant", "threshold", "--max-fanin", "3",
                 "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "max_fanin 3: raise the bound" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()  # nothing half-written


def test_verify_missing_directory(tmp_path, capsys):
    assert main(["verify", str(tmp_path / "nope"), "--sim", "torch"]) == 2
    assert "point at a directory written by `spikegate generate`" in capsys.readouterr().err


# -- converters, dot products, linear layers, MLPs: generate -> verify ------------------

@pytest.mark.parametrize("unit,vectors", [("fp8-to-fp32", 256), ("fp8-to-fp16", 256),
                                          ("fp16-to-fp8", 65536), ("fp8-mul-fp32", 65536),
                                          ("fp32-to-fp8", 340_000), ("relu", 256)])
def test_converters_generate_and_verify(tmp_path, capsys, unit, vectors):
    out = tmp_path / unit
    assert main(["generate", unit, "--format", "e5m2", "--policy", "ocp", "-o", str(out),
                 "--quiet"]) == 0
    assert (out / "report.md").exists()
    assert main(["verify", str(out), "--sim", "torch"]) == 0
    assert f"on torch: {vectors} vectors bit-exact" in capsys.readouterr().out


def test_dot_with_constants_verifies_and_a_wrong_constant_fails(tmp_path, capsys):
    out = tmp_path / "dot"
    assert main(["generate", "dot", "--in", "3", "--accum", "fp8", "--const-weights",
                 "--bias", "random", "--seed", "4", "-o", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["weights"] == "const" and report["bias"] == "const"
    assert report["command"].startswith("spikegate generate dot --in 3")
    for name in ("report.md", "weights.json", f"{report['top']}.core"):
        assert (out / name).exists(), name
    assert main(["verify", str(out), "--sim", "torch", "--vectors", "3000"]) == 0
    assert "3000 vectors bit-exact" in capsys.readouterr().out
    # the golden reads weights.json: a changed constant must be caught, in hex
    consts = json.loads((out / "weights.json").read_text())
    consts["weights"][0][0] ^= 0x08
    (out / "weights.json").write_text(json.dumps(consts))
    assert main(["verify", str(out), "--sim", "torch"]) == 1
    err = capsys.readouterr().err
    assert "vectors mismatch" in err and "x0=0x" in err and "got 0x" in err


def test_linear_with_port_weights_verifies(tmp_path, capsys):
    out = tmp_path / "lin"
    assert main(["generate", "linear", "--in", "3", "--out", "2", "--accum", "exact",
                 "--out-format", "e4m3", "--relu", "--bias", "random", "-o", str(out),
                 "--quiet"]) == 0
    assert main(["verify", str(out), "--sim", "torch", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pass"] and result["vectors"] == 2000


@pytest.mark.parametrize("argv,message", [
    (["linear", "--in", "4", "--out", "2", "--mac", "2", "--accum", "fp32"],
     "--mac accumulates exactly: use --accum exact"),
    (["linear", "--in", "4", "--out", "2", "--mac", "2", "--lanes", "2"],
     "choose one time-multiplexed form"),
    (["dot", "--in", "4", "--lanes", "2"], "use `generate linear`"),
    (["linear", "--in", "4", "--out", "2", "--lanes", "1", "--relu"],
     "--relu needs an FP8 output format"),
    (["mlp"], "generate mlp needs --model FILE"),
])
def test_layer_option_errors_are_one_line(tmp_path, capsys, argv, message):
    out = tmp_path / "x"
    assert main(["generate", *argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_mlp_model_errors(tmp_path, capsys):
    import torch
    sd = tmp_path / "sd.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), sd)
    assert main(["generate", "mlp", "--model", str(sd), "-o", str(tmp_path / "a")]) == 2
    assert "not an nn.Module: save the nn.Sequential itself" in capsys.readouterr().err
    conv = tmp_path / "conv.pt"
    torch.save(torch.nn.Sequential(torch.nn.Conv1d(1, 1, 1)), conv)
    assert main(["generate", "mlp", "--model", str(conv), "-o", str(tmp_path / "b")]) == 2
    assert "supports nn.Linear and nn.ReLU, not Conv1d" in capsys.readouterr().err
    assert main(["generate", "mlp", "--model", str(tmp_path / "none.pt"),
                 "-o", str(tmp_path / "c")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_streamed_design_files_and_torch_refusal(tmp_path, capsys):
    out = tmp_path / "mac"
    assert main(["generate", "linear", "--in", "5", "--out", "3", "--mac", "2",
                 "-o", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["form"] == "time-multiplexed" and report["mac_inputs_per_cycle"] == 2
    assert report["latency_cycles"] == 3 * (3 + 1) + 1  # 3 chunks + 1 rounding per output
    for name in ("report.md", "layers.json", "datapath.json", f"{report['top']}.core"):
        assert (out / name).exists(), name
    assert main(["inspect", str(out), "--no-plots", "--quiet"]) == 0
    assert main(["verify", str(out), "--sim", "torch"]) == 2
    assert "runs on icarus or verilator" in capsys.readouterr().err


def test_fp8_lean_variant_generates_and_verifies(tmp_path, capsys):
    out = tmp_path / "lean"
    assert main(["generate", "fp8-add", "--variant", "lean", "--format", "e5m2", "-o", str(out),
                 "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["variant"] == "lean" and report["max_fanin"] <= 4
    assert "--variant lean" in (out / "report.md").read_text()
    assert main(["verify", str(out), "--sim", "torch"]) == 0
    assert "65536 vectors bit-exact" in capsys.readouterr().out
    assert main(["generate", "fp8-mul", "--variant", "ripple", "-o", str(tmp_path / "x")]) == 2
    assert "unknown variant 'ripple' of fp8-mul: choose one of default, shallow, lean" in \
        capsys.readouterr().err


def test_verify_of_a_wide_block_uses_random_vectors(tmp_path, capsys):
    out = tmp_path / "add12"
    assert main(["generate", "add", "--width", "12", "-o", str(out), "--quiet"]) == 0  # 2^25
    assert main(["verify", str(out), "--sim", "torch"]) == 0
    assert "200000 vectors bit-exact" in capsys.readouterr().out
    assert main(["verify", str(out), "--sim", "torch", "--vectors", "5000"]) == 0
    assert "5000 vectors bit-exact" in capsys.readouterr().out


def test_verify_exhaustive_records_ranges_and_finds_a_broken_neuron(tmp_path, capsys):
    out = tmp_path / "mul"
    assert main(["generate", "fmul", "--format", "e5m2", "-o", str(out), "--quiet"]) == 0
    assert main(["verify", str(out), "--exhaustive", "--device", "cpu", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pass"] and result["vectors"] == 65536 and result["proved_vectors"] == 65536
    assert main(["verify", str(out), "--exhaustive", "--range", "0x100:0x80"]) == 2
    assert "--range 0x100:0x80 is outside" in capsys.readouterr().err
    # break one neuron in netlist and Verilog alike: the sweep must name a mismatch in hex
    from spikegate.gen.netlist import Netlist
    from spikegate.hdl.design import Design
    report = json.loads((out / "report.json").read_text())
    spec = json.loads((out / "netlist.json").read_text())
    spec["neurons"][-1]["threshold"] += 1
    (out / "netlist.json").write_text(json.dumps(spec))
    (out / report["verilog"]).write_text(Design(Netlist.from_dict(spec), top=report["top"]).verilog)
    assert main(["verify", str(out), "--exhaustive", "--range", "0:0x4000", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["mismatches"] > 0 and "0x" in result["first"][0]
    runs = json.loads((out / "exhaustive.json").read_text())
    assert [r["mismatches"] > 0 for r in runs["ranges"]] == [False, True]
    assert runs["proved_vectors"] == 65536
