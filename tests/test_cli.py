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
