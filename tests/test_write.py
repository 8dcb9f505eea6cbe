"""Atomic writes: a file is complete or absent, and an existing file survives a failed write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.write import write_atomic


def test_writes_creates_folders_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "content/posts/x/1.md"
    write_atomic(target, "---\ntitle: \"一\"\n---\n")
    assert target.read_text(encoding="utf-8") == "---\ntitle: \"一\"\n---\n"
    assert os.listdir(target.parent) == ["1.md"]


def test_failed_write_keeps_the_old_file_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "1.md"
    write_atomic(target, "old\n")

    def crash(src: str, dst: str) -> None:  # the process dies between writing and renaming
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["1.md"]
