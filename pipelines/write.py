"""Atomic file writes: a file is either complete on disk or absent."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    A crash at any point leaves either the old file or the new one, never a
    truncated mix; the temporary name starts with ``.`` so Hugo ignores it.
    """
    write_bytes_atomic(path, text.encode("utf-8"))


def write_chunks_atomic(path: Path, chunks: Iterable[str]) -> None:
    """``write_atomic`` of text given piece by piece (a long run's report), never all in memory at once."""
    _write(path, (chunk.encode("utf-8") for chunk in chunks))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """``write_atomic`` for bytes (an image kept exactly as served)."""
    _write(path, (data,))


def _write(path: Path, chunks: Iterable[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
