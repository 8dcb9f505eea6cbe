"""``scrapy crawl backfill``: a mixed list of URLs and saved files, dispatched per source (any
other page to the generic path), with unsupported lines reported and a retry file that feeds
straight back in."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.sources.web import url_id
from tests.conftest import FIXTURES, ROOT, WECHAT, WSCN, MockServer, crawl_command, run_crawl, serve, wechat_routes, wscn_routes

POSTS = "content/posts/wallstreetcn"
WECHAT_POSTS = "content/posts/wechat"
DETAIL = "/apiv1/content/articles/{}?extract=0"
SHORT = "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw"
#: a long link with the tracking noise shared links carry
LONG = ("https://mp.weixin.qq.com/s?__biz=MzIzNDcyMTI5MQ==&mid=2247664546&idx=2&sn=cf3b894cff1fe9892fb0598a40c465fb"
        "&chksm=e91364ef142eca992924da1e7efc132a7fe301ebfdf403668e506be0bfada295cee7b112fd20&scene=21#rd")
DELETED = "https://mp.weixin.qq.com/s/fixture_deleted_01"
#: any other site goes to the generic path, where the outbound guard still refuses private addresses
PRIVATE = "http://10.0.0.1/news/1"
#: the URL the saved banyuetan page names as its own (og:url)
BANYUETAN = "http://www.banyuetan.org/jmcs/detail/20200102/1000200033136171577956287380194268_1.html"


def backfill(server: MockServer, output: Path, *args: str, stdin: str | None = None):
    settings = {"WALLSTREETCN_API_BASE": server.url, "WECHAT_BASE": server.url, "RETRY_TIMES": "0"}
    return run_crawl("backfill", output, *args, settings=settings, stdin=stdin)


def both() -> dict:
    """The recorded wallstreetcn answers and WeChat pages on one server."""
    return {"routes": wscn_routes()["routes"] + wechat_routes()["routes"]}


def failing(article_id: int) -> dict:
    """The recorded routes, but one wallstreetcn detail answers HTTP 500."""
    routes = both()
    for route in routes["routes"]:
        if route["path"].endswith(f"/{article_id}"):
            route.pop("file")
            route["status"] = 500
    return routes


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory):
    """One backfill of a mixed list (3782700 failing with HTTP 500), then its retry file fed back."""
    tmp = tmp_path_factory.mktemp("backfill")
    saved = tmp / "saved"
    saved.mkdir()
    shutil.copy(WSCN / "article-3740710.json", saved / "3740710.json")  # a saved API answer
    shutil.copy(WECHAT / "pages" / "wae_normal_03_yinji_blockquote_qr.html.gz", saved / "page.html.gz")  # a saved WeChat page
    (saved / "notes.txt").write_text("not an article\n", encoding="utf-8")  # hand-made: an unknown saved file
    shutil.copy(FIXTURES / "generic" / "banyuetan.org.1000200033136171577956287380194268_1.html", saved / "news.html")
    urls = tmp / "urls.txt"
    urls.write_text(
        "# mixed backfill list\n"
        "\n"
        "https://wallstreetcn.com/articles/3782700?keyword=ai\n"
        "https://wallstreetcn.com/articles/3782635\n"
        "https://wallstreetcn.com/articles/3782699\n"
        f"{PRIVATE}\n"
        f"{(saved / '3740710.json').as_uri()}\n"
        f"{saved / 'notes.txt'}\n"
        "   \n"
        f"{SHORT}\n"
        f"{LONG}\n"
        f"{DELETED}\n"
        "https://wallstreetcn.com/articles/3782700\n"  # the first line's article again
        f"{(saved / 'page.html.gz').as_uri()}\n"
        f"{saved / 'news.html'}\n",  # a saved page of another site
        encoding="utf-8",
    )
    out = tmp / "out"
    with serve(failing(3782700), tmp, "failing") as server:
        first = backfill(server, out, f"urls_file={urls}")
    first_files, first_report = first.files(), first.report()
    retry = Path(first_report["retry_file"])
    with serve(both(), tmp, "fixed") as server:
        second = backfill(server, out, f"urls_file={retry}")
        second.requests = server.requests()
    return {"first": first, "first_files": first_files, "first_report": first_report,
            "second": second, "urls": urls, "saved": saved}


def test_supported_urls_are_written_and_saved_files_recognised(mixed) -> None:
    files = mixed["first_files"]
    assert sorted(files) == [
        f"content/posts/banyuetan.org/{url_id(BANYUETAN)}.md",  # the generic path, by the page's own URL
        f"{POSTS}/3740710.md",
        f"{WECHAT_POSTS}/3234721291_2247664546_2.md",  # the long link, by its identity
        f"{WECHAT_POSTS}/s_KDWh_qGpFN5Vu1TR9t30Mw.md",
        f"{WECHAT_POSTS}/s_SbB40tES2MrfoNaIPima5A.md",  # the saved page, identified from its own HTML
    ]
    assert files[f"{POSTS}/3740710.md"] == (WSCN / "seed-3740710.md").read_bytes()  # from the saved answer


def test_the_rest_is_reported_never_dropped(mixed) -> None:
    first, report, saved = mixed["first"], mixed["first_report"], mixed["saved"]
    assert first.returncode == 3, first.log
    assert sorted((s["url"], s["reason"]) for s in report["skipped"]) == sorted([
        ("https://wallstreetcn.com/articles/3782635", "paid"),
        ((saved / "notes.txt").as_uri(), "unsupported"),
        ("https://wallstreetcn.com/articles/3782700", "duplicate-url"),
    ])
    assert sorted((f["url"], f["reason"], f["kind"]) for f in report["failed"]) == [
        (PRIVATE, "disallowed-url", "permanent"),
        (DELETED, "deleted", "permanent"),
        ("https://wallstreetcn.com/articles/3782699", "api-error", "permanent"),
        ("https://wallstreetcn.com/articles/3782700", "http-500", "transient"),
    ]
    assert report["failed_by_kind"] == {"permanent": 3, "transient": 1}
    assert f"Skipped {(saved / 'notes.txt').as_uri()}: unsupported" in first.log


def test_retry_file_round_trips(mixed) -> None:
    second = mixed["second"]
    retry = Path(mixed["first_report"]["retry_file"]).read_text(encoding="utf-8").splitlines()
    assert retry[0].startswith("# ")
    # Only the transient failure (HTTP 500) is worth a retry: the deleted page and the API's error answer are permanent.
    assert retry[1:] == ["https://wallstreetcn.com/articles/3782700"]
    assert second.requests == [DETAIL.format(3782700)]
    assert [e["path"] for e in second.report()["new"]] == [f"{POSTS}/3782700.md"]
    assert second.report()["retry_file"] is None
    assert second.returncode == 0, second.log


def test_stored_articles_are_skipped_unless_forced(mixed, tmp_path: Path) -> None:
    urls, out = mixed["urls"], mixed["first"].output
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.md")}
    with serve(both(), tmp_path, "again") as server:
        again = backfill(server, out, f"urls_file={urls}")
        skipped_requests = server.requests()
    stored = sorted(s["url"] for s in again.report()["skipped"] if s["reason"] == "stored")
    assert stored == sorted([
        "https://wallstreetcn.com/articles/3782700?keyword=ai", SHORT, LONG,
        (urls.parent / "saved" / "3740710.json").as_uri(), (urls.parent / "saved" / "page.html.gz").as_uri(),
        (urls.parent / "saved" / "news.html").as_uri(),
    ])
    # Only what is not stored is fetched again: the failures, and the paid piece (known paid only from its detail).
    assert sorted(skipped_requests) == sorted([DETAIL.format(3782635), DETAIL.format(3782699), urlsplit(DELETED).path])
    with serve(both(), tmp_path, "forced") as server:
        forced = backfill(server, out, f"urls_file={urls}", "force=1")
        forced_requests = server.requests()
    assert DETAIL.format(3782700) in forced_requests
    assert sorted(e["path"] for e in forced.report()["unchanged"]) == sorted(str(p.relative_to(out)) for p in before)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.md")} == before  # identical content: nothing rewritten


def test_list_from_stdin(tmp_path: Path) -> None:
    with serve(wscn_routes(), tmp_path, "stdin") as server:
        result = backfill(server, tmp_path / "out", "urls_file=-", stdin="https://wallstreetcn.com/articles/3782700\n")
    assert result.returncode == 0, result.log
    assert sorted(result.files()) == [f"{POSTS}/3782700.md"]


def test_list_is_read_lazily(tmp_path: Path) -> None:
    """The first URL is fetched while the rest of the list has not even been written yet."""
    with serve(wscn_routes(), tmp_path, "lazy") as server:
        command = crawl_command("backfill", tmp_path / "out", "urls_file=-", settings={"WALLSTREETCN_API_BASE": server.url})
        proc = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert proc.stdin is not None
        proc.stdin.write("https://wallstreetcn.com/articles/3782700\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while DETAIL.format(3782700) not in server.requests():
            assert proc.poll() is None and time.monotonic() < deadline, "first URL not fetched before the list ended"
            time.sleep(0.05)
        proc.stdin.write("https://wallstreetcn.com/articles/3740710\n")
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    assert sorted(p.name for p in (tmp_path / "out" / POSTS).glob("*.md")) == ["3740710.md", "3782700.md"]


def test_missing_list_is_a_clear_error(tmp_path: Path) -> None:
    result = run_crawl("backfill", tmp_path / "out", f"urls_file={tmp_path / 'nope.txt'}")
    assert result.returncode == 1
    assert "is not a file" in result.log


def test_refused_lists_end_the_run_before_any_request(tmp_path: Path) -> None:
    """/dev/zero (endless) and a list over URL_LIST_MAXSIZE: exit 1, nothing fetched, nothing written."""
    big = tmp_path / "big.txt"
    big.write_text("https://wallstreetcn.com/articles/3782700\n" * 100, encoding="utf-8")
    with serve(wscn_routes(), tmp_path, "refused") as server:
        zero = backfill(server, tmp_path / "out", "urls_file=/dev/zero")
        large = run_crawl("backfill", tmp_path / "out", f"urls_file={big}",
                          settings={"WALLSTREETCN_API_BASE": server.url, "URL_LIST_MAXSIZE": "1000"})
        requests = server.requests()
    assert (zero.returncode, large.returncode) == (1, 1)
    assert "urls_file='/dev/zero' is not a file (a device, pipe or folder)" in zero.log
    assert f"urls_file={str(big)!r} refused: list-too-large (4200 bytes; URL_LIST_MAXSIZE is 1000)" in large.log
    assert requests == []
    assert not (tmp_path / "out").exists()


def test_bad_lines_fail_alone_and_stdin_stops_at_the_size_cap(tmp_path: Path) -> None:
    """Hand-made list on stdin: a line that is no URL in the middle, then more than URL_LIST_MAXSIZE."""
    lines = ("https://wallstreetcn.com/articles/3782700\nmailto:someone@example.com\n"
             "https://wallstreetcn.com/articles/3740710\n" + "# padding\n" * 200)
    with serve(wscn_routes(), tmp_path, "stdin") as server:
        result = run_crawl("backfill", tmp_path / "out", "urls_file=-", stdin=lines,
                           settings={"WALLSTREETCN_API_BASE": server.url, "URL_LIST_MAXSIZE": "300"})
    assert sorted(result.files()) == [f"{POSTS}/3740710.md", f"{POSTS}/3782700.md"]
    failures = [(f["url"], f["reason"]) for f in result.report()["failed"]]
    assert failures == [("stdin:2", "bad-line"), ("stdin:22", "list-too-large")]  # 113 + 19 * 10 bytes fit in 300
    assert result.returncode == 3


def test_refresh_is_force(mixed, tmp_path: Path) -> None:
    with serve(both(), tmp_path, "refresh") as server:
        result = backfill(server, mixed["first"].output, f"urls_file={mixed['urls']}", "refresh=1")
        requests = server.requests()
    assert DETAIL.format(3782700) in requests
    assert not [s for s in result.report()["skipped"] if s["reason"] == "stored"]


def test_closed_stdin_is_a_named_failure(tmp_path: Path) -> None:
    """cron can start a job with standard input closed (``<&-``): ``urls_file=-`` then reads nothing, and says so."""
    command = crawl_command("backfill", tmp_path / "out", "urls_file=-")
    proc = subprocess.run(["sh", "-c", 'exec "$@" <&-', "sh", *command], cwd=ROOT, capture_output=True, text=True, timeout=120)
    log = proc.stdout + proc.stderr
    assert "Failed -: not-a-file (urls_file='-' but standard input is closed)" in log
    assert proc.returncode == 3 and "Traceback" not in log
