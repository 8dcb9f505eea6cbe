"""``scrapy state``: list, show, forget, export-urls and mark over a hand-made state store and raw
archive (one article with a raw source, one stored before raw sources were kept), in process,
plus the command line itself once."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.arguments import Refused
from crawler.commands.state import state_command
from pipelines import archive
from pipelines.archive import RawSource
from pipelines.state import StateStore
from tests.conftest import ROOT

WSCN_PATH = "content/posts/wallstreetcn/3740710.md"
WECHAT_PATH = "content/posts/wechat/s_old.md"


@pytest.fixture
def output(tmp_path: Path) -> Path:
    """Hand-made: two stored articles and their files; only the wallstreetcn one has a raw source."""
    store = StateStore(tmp_path / ".state" / "state.sqlite3")
    store.record(key="wallstreetcn:3740710", source="wallstreetcn", id="3740710", url="https://wallstreetcn.com/articles/3740710",
                 document_hash="h1", path=WSCN_PATH, aliases=["wechat:3271041950_2652564074_1"], now="2026-12-01T08:00:05+00:00")
    store.record(key="wechat:s_old", source="wechat", id="s_old", url="https://mp.weixin.qq.com/s/old",
                 document_hash="h2", path=WECHAT_PATH, now="2026-11-01T08:00:00+00:00")
    store.set_listing_mark("wallstreetcn", 1764576000, now="2026-12-01T08:00:10+00:00")
    store.close()
    archive.store(tmp_path / ".state" / "archive", "wallstreetcn:3740710",
                  RawSource("wallstreetcn", "https://api.example/articles/3740710?extract=0", b'{"code": 20000}',
                            "2026-12-01T08:00:00+00:00", {"content-type": "application/json"}, context={"article_id": "3740710"}))
    for path in (WSCN_PATH, WECHAT_PATH):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("---\n", encoding="utf-8")
    return tmp_path


def state(output: Path, *args: str, json_out: bool = False, source: str = "", delete_file: bool = False,
          reset: bool = False) -> str:
    opts = argparse.Namespace(json=json_out, source=source, delete_file=delete_file, reset=reset)
    return state_command(Settings({"OUTPUT_DIR": str(output), "SITE_REPO": "", "STATE_PATH": "", "ARCHIVE_DIR": ""}), args, opts)


def test_list_shows_fetch_times_and_what_has_no_raw_source(output: Path) -> None:
    lines = state(output, "list").splitlines()
    assert lines[0].split() == ["source", "id", "path", "first_fetched", "last_fetched", "status"]
    assert lines[1].split() == ["wallstreetcn", "3740710", WSCN_PATH, "2026-12-01T08:00:00+00:00", "2026-12-01T08:00:00+00:00", "ok"]
    assert lines[2].split()[:5] == ["wechat", "s_old", WECHAT_PATH, "-", "-"]
    assert lines[2].endswith("no raw source")
    assert lines[3] == "2 article(s), 1 with no raw source (rerender skips them)"
    entries = json.loads(state(output, "list", json_out=True, source="wechat"))
    assert [(e["id"], e["status"], e["raw_versions"]) for e in entries] == [("s_old", "no raw source", 0)]


def test_show_gives_the_record_and_its_raw_source(output: Path) -> None:
    shown = json.loads(state(output, "show", "3740710", json_out=True))
    assert shown["key"] == "wallstreetcn:3740710" and shown["aliases"] == ["wechat:3271041950_2652564074_1"]
    assert shown["raw_source"]["bytes"] == 15 and shown["raw_source"]["context"] == {"article_id": "3740710"}
    assert shown["raw_source"]["headers"] == {"content-type": "application/json"}
    text = state(output, "show", "wechat:s_old")
    assert "raw source: none (no raw source: stored before raw sources were kept)" in text
    assert "url: https://mp.weixin.qq.com/s/old" in text


def test_forget_keeps_the_file_unless_asked(output: Path) -> None:
    assert state(output, "forget", "3740710") == (f"Forgot wallstreetcn:3740710 ({WSCN_PATH}, file kept); "
                                                  "its source's next scheduled run fetches it again\n")
    assert (output / WSCN_PATH).exists()
    forgotten = json.loads(state(output, "forget", "s_old", json_out=True, delete_file=True))
    assert forgotten["file_deleted"] is True and forgotten["refetch_queued"] is False  # no scheduled wechat run
    assert not (output / WECHAT_PATH).exists()
    assert state(output, "export-urls") == ""
    store = StateStore(output / ".state" / "state.sqlite3")
    assert store.owner(["wechat:3271041950_2652564074_1"]) is None  # its aliases went with it
    assert store.refetch_queue("wallstreetcn") == ["3740710"] and store.refetch_queue("wechat") == []
    store.close()


def test_export_urls_is_a_backfill_list(output: Path) -> None:
    assert state(output, "export-urls") == "https://wallstreetcn.com/articles/3740710\nhttps://mp.weixin.qq.com/s/old\n"
    assert json.loads(state(output, "export-urls", json_out=True, source="wechat")) == ["https://mp.weixin.qq.com/s/old"]


def test_mark_shows_and_resets_the_listing_mark(output: Path) -> None:
    assert state(output, "mark").splitlines()[1].split() == ["wallstreetcn", "2025-12-01T08:00:00+00:00", "2026-12-01T08:00:10+00:00"]
    assert state(output, "mark", reset=True) == "Reset the listing mark of wallstreetcn (was 2025-12-01T08:00:00+00:00)\n"
    assert json.loads(state(output, "mark", json_out=True)) == []


@pytest.mark.parametrize(("args", "options", "message"), [
    ((), {}, "subcommand none is refused; accepted: list, show, forget, export-urls, mark"),
    (("drop",), {}, "subcommand 'drop' is refused"),
    (("show",), {}, "show takes one ID; given: none"),
    (("show", "999"), {}, "ID '999' is refused (not stored)"),
    (("list", "--frob"), {}, "option --frob is refused"),
    (("list",), {"reset": True}, "option --reset is refused (only mark takes it)"),
])
def test_refusals(output: Path, args: tuple[str, ...], options: dict, message: str) -> None:
    with pytest.raises(Refused) as refused:
        state(output, *args, **options)
    assert str(refused.value).startswith(message)


def test_command_line(output: Path) -> None:
    run = [sys.executable, "-m", "scrapy", "state", "-s", f"OUTPUT_DIR={output}"]
    listed = subprocess.run([*run, "list", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert [e["id"] for e in json.loads(listed.stdout)] == ["3740710", "s_old"]
    refused = subprocess.run([*run, "forget"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (refused.returncode, refused.stderr.strip()) == (1, "scrapy state: error: forget takes one ID; given: none")


def test_records_are_read_in_batches_in_source_and_id_order(tmp_path: Path) -> None:
    """Hand-made: source names where key order and (source, id) order differ ("a.b:…" < "a:…")."""
    store = StateStore(tmp_path / "state.sqlite3")
    for source in ("b", "a.b", "a"):
        for n in range(5):
            store.record(key=f"{source}:{n}", source=source, id=str(n), url="u", document_hash="h", path=f"{source}/{n}")
    expected = [f"{source}:{n}" for source in ("a", "a.b", "b") for n in range(5)]
    assert [record.key for record in store.records(batch=2)] == expected == [r.key for r in store.records()]
    assert [record.key for record in store.records("a.b", batch=5)] == expected[5:10]
    assert (store.count(), store.count("a")) == (15, 5)
    store.close()
