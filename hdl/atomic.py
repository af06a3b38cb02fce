"""Atomic writes: a file or a whole output directory appears complete, or not at all.

Every command that writes (``generate``, ``synth``, ``verify --exhaustive``, the benches)
goes through here, so an interrupted or failing run never leaves a half-written design;
:func:`read_json` reads a design's JSON files back with one-line errors.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["write_file", "write_directory", "replace_directory", "read_json"]


def read_json(path, missing):
    """The JSON in ``path``; a missing file raises FileNotFoundError ``"{path} is missing:
    {missing}"``, a malformed one ValueError naming the regeneration."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} is missing: {missing}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}): "
                         f"regenerate the design with `spikegate generate --force`") from None


def _parent(path: Path) -> Path:
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot write to {parent}: {exc.strerror}; choose a writable "
                      f"output directory with -o") from None
    return parent


def write_file(path, data: str | bytes):
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=_parent(path))
    except OSError as exc:
        raise OSError(f"cannot write {path}: {exc.strerror}; choose a writable "
                      f"output directory with -o") from None
    try:
        with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_directory(staging, final):
    """Put the complete folder ``staging`` in place of ``final`` (which may exist)."""
    staging, final = Path(staging), Path(final)
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
        os.rename(final, old / "d")
        os.rename(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, final)


def write_directory(directory, files: dict[str, str]):
    """Replace ``directory`` by one holding exactly ``files``, all at once."""
    directory = Path(directory)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=_parent(directory)))
    except OSError as exc:
        raise OSError(f"cannot write to {directory.parent}: {exc.strerror}; choose a writable "
                      f"output directory with -o") from None
    try:
        for name, text in files.items():
            (staging / name).write_text(text)
        replace_directory(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
