"""``scrapy rerender`` end to end: articles crawled through the real downloader (a backfill of
wallstreetcn answers, WeChat pages and a saved page, from the replay server), then re-rendered
after a format setting changed, with no request, compared byte for byte with a fresh crawl
under the new setting; ``lastmod`` kept; ``--dry-run``; stored articles with no raw source."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import (
    FIXTURES, ROOT, TEST_CRAWL_SETTINGS, WECHAT, WSCN, CrawlResult, MockServer, run_crawl, serve, wechat_routes, wscn_routes,
)

WSCN_POSTS = "content/posts/wallstreetcn"
WECHAT_POSTS = "content/posts/wechat"
EDITED = "https://wallstreetcn.com/articles/3782700"
LIST = [
    "https://wallstreetcn.com/articles/3740710",
    EDITED,
    "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw",
    "https://mp.weixin.qq.com/s/SbB40tES2MrfoNaIPima5A",
    str(WECHAT / "pages" / "wsg_2018_mpvoice_cjrb.html.gz"),  # a saved page (file path)
    str(FIXTURES / "generic" / "banyuetan.org.1000200033136171577956287380194268_1.html"),  # any site's saved page: the web path
]
#: the format change: another wallstreetcn disclaimer (WeChat's stays the project's)
NEW_DISCLAIMERS = json.dumps({"wallstreetcn": "本文仅供参考，不构成投资建议。",
                              "wechat": "本文转载自微信公众号，版权归原作者所有。如有侵权，请联系删除。"}, ensure_ascii=False)
NO_RAW = f"{WECHAT_POSTS}/s_SbB40tES2MrfoNaIPima5A.md"


def routes(details: dict[int, Path] | None = None) -> dict:
    return {"routes": wscn_routes(details)["routes"] + wechat_routes()["routes"]}


def backfill(server: MockServer, output: Path, urls: list[str], tmp: Path, *args: str,
             settings: dict[str, str] | None = None) -> CrawlResult:
    listing = tmp / f"urls-{len(list(tmp.glob('urls-*')))}.txt"
    listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
    given = {"WALLSTREETCN_API_BASE": server.url, "WECHAT_BASE": server.url} | (settings or {})
    result = run_crawl("backfill", output, f"urls_file={listing}", *args, settings=given)
    assert result.returncode == 0, result.log[-3000:]
    return result


def rerender(output: Path, *args: str, settings: dict[str, str] | None = None) -> CrawlResult:
    command = [sys.executable, "-m", "scrapy", "rerender", "-s", f"OUTPUT_DIR={output}"]
    for name, value in (TEST_CRAWL_SETTINGS | (settings or {})).items():
        command += ["-s", f"{name}={value}"]
    proc = subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    result = CrawlResult(proc.returncode, proc.stdout + proc.stderr, output)
    result.requests = proc.stdout.splitlines()  # the dry run's listing, on stdout
    return result


def files(output: Path) -> dict[str, bytes]:
    return {p.relative_to(output).as_posix(): p.read_bytes() for p in sorted((output / "content").rglob("*.md"))}


def without_lastmod(document: bytes) -> bytes:
    return b"".join(line for line in document.splitlines(keepends=True) if not line.startswith(b"lastmod: "))


@pytest.fixture(scope="module")
def rerendered(tmp_path_factory: pytest.TempPathFactory):
    """A crawled output (one article edited upstream, so it has ``lastmod``; one stored before raw
    sources were kept), re-rendered with a new wallstreetcn disclaimer; and a fresh crawl with it."""
    tmp = tmp_path_factory.mktemp("rerender")
    out, fresh = tmp / "out", tmp / "fresh"
    # Hand-made: the recorded 3782700 answer with its first paragraph changed, as an earlier version upstream.
    answer = json.loads((WSCN / "article-3782700.json").read_text(encoding="utf-8"))
    answer["data"]["content"] = "<p>较早的版本。</p>" + answer["data"]["content"]
    (tmp / "edited.json").write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
    with serve(routes({3782700: tmp / "edited.json"}), tmp, "earlier") as server:
        backfill(server, out, LIST, tmp)
    with serve(routes(), tmp, "now") as server:
        backfill(server, out, [EDITED], tmp, "refresh=1")
        shutil.rmtree(out / ".state" / "archive" / "wechat" / "s_SbB40tES2MrfoNaIPima5A")  # as if stored before
        before = files(out)
        stamps = {path: (out / path).stat().st_mtime_ns for path in before}
        requests = len(server.requests())
        dry = rerender(out, "--dry-run", settings={"DISCLAIMERS": NEW_DISCLAIMERS})
        after_dry = files(out)
        run = rerender(out, settings={"DISCLAIMERS": NEW_DISCLAIMERS})
        again = rerender(out, "3740710", settings={"DISCLAIMERS": NEW_DISCLAIMERS})
        assert len(server.requests()) == requests, "a re-render made a request"
        backfill(server, fresh, LIST, tmp, settings={"DISCLAIMERS": NEW_DISCLAIMERS})
    return {"out": out, "before": before, "stamps": stamps, "dry": dry, "after_dry": after_dry, "run": run,
            "again": again, "after": files(out), "fresh": files(fresh)}


def test_the_edited_article_has_lastmod_before(rerendered) -> None:
    assert b"\nlastmod: " in rerendered["before"][f"{WSCN_POSTS}/3782700.md"]


def test_rewrites_exactly_the_affected_files_as_a_fresh_crawl_would(rerendered) -> None:
    run, before, after, fresh = rerendered["run"], rerendered["before"], rerendered["after"], rerendered["fresh"]
    assert run.returncode == 0, run.log[-3000:]
    changed = sorted(path for path in after if after[path] != before[path])
    assert changed == [f"{WSCN_POSTS}/3740710.md", f"{WSCN_POSTS}/3782700.md"]
    assert sorted(entry["path"] for entry in run.report()["rerendered"]) == changed
    assert "downloader/request_count" not in run.report()["stats"]  # nothing requested, of any host
    unchanged = [path for path in before if path not in changed]
    assert all((rerendered["out"] / path).stat().st_mtime_ns == rerendered["stamps"][path] for path in unchanged)
    assert after[f"{WSCN_POSTS}/3740710.md"] == fresh[f"{WSCN_POSTS}/3740710.md"]
    assert sorted(after) == sorted(fresh)
    for path in after:
        assert without_lastmod(after[path]) == fresh[path], path


def test_lastmod_stays_what_it_was(rerendered) -> None:
    def lastmod(document: bytes) -> list[bytes]:
        return [line for line in document.splitlines() if line.startswith(b"lastmod: ")]

    edited = f"{WSCN_POSTS}/3782700.md"
    assert lastmod(rerendered["after"][edited]) == lastmod(rerendered["before"][edited]) != []
    assert all(not lastmod(document) for path, document in rerendered["after"].items() if path != edited)


def test_article_without_raw_source_is_skipped_and_counted(rerendered) -> None:
    report = rerendered["run"].report()
    assert report["counts"]["unchanged"] == len(LIST) - 1 - 2  # every other one re-rendered from its raw source
    assert report["stats"]["article/skipped/no-raw-source"] == 1
    assert [entry["reason"] for entry in report["skipped"]] == ["no-raw-source"]
    assert rerendered["after"][NO_RAW] == rerendered["before"][NO_RAW]


def test_dry_run_prints_the_changes_and_writes_nothing(rerendered) -> None:
    dry = rerendered["dry"]
    assert dry.returncode == 0, dry.log[-3000:]
    assert rerendered["after_dry"] == rerendered["before"]
    assert "Dry run: 2 file(s) would be rewritten:" in dry.requests
    assert f"  {WSCN_POSTS}/3740710.md (+1 -2 line(s))" in dry.requests  # the two-line disclaimer becomes one
    assert "+本文仅供参考，不构成投资建议。" in dry.requests
    assert f"--- a/{WSCN_POSTS}/3782700.md" in dry.requests
    assert "rerendered" not in dry.report()


def test_a_second_rerender_of_one_id_changes_nothing(rerendered) -> None:
    again = rerendered["again"].report()
    assert again["counts"]["unchanged"] == 1 and "rerendered" not in again
    assert [entry["path"] for entry in again["unchanged"]] == [f"{WSCN_POSTS}/3740710.md"]


def test_refuses_bad_options_in_one_line(tmp_path: Path) -> None:
    for args, message in (
        (["--source", "nope"], "scrapy rerender: error: option --source='nope' is refused"),
        (["12345"], "scrapy rerender: error: id '12345' is refused (not stored; no state at"),
        (["--frob"], "scrapy rerender: error: option --frob is refused"),
        (["-s", "SUMMARY_LENGTH=-3"], "scrapy rerender: error: setting SUMMARY_LENGTH="),
    ):
        result = rerender(tmp_path / "out", *args)
        assert result.returncode == 1, result.log
        assert result.log.strip().splitlines()[-1].startswith(message), result.log
