"""Every setting and argument is checked before the first request (crawler.checks, crawler.arguments).

The refused values are hand-made bad input: the ones an operator hit from cron
(issue 9) and a table of others. Each must end the run with status 1 and one line
naming the setting or argument and what is accepted, with nothing written.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from scrapy.cmdline import execute
from scrapy.settings import Settings

from crawler.arguments import Refused, parse_arguments
from crawler.checks import check_run, check_settings
from crawler.spiders.backfill import BackfillSpider
from crawler.spiders.wallstreetcn import WallstreetcnSpider
from crawler.spiders.wechat import WechatSpider
from pipelines.images import DEFAULT_RULES
from tests.conftest import ROOT, crawl_command, run_crawl, wscn_routes
from tests.mockserver import MockServer

POSTS = "content/posts/wallstreetcn"
WECHAT_URL = "urls=https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw"

#: (spider, -a arguments, -s settings, what the line must name): each refused before anything starts.
#: First the problems reproduced on main (run as cron runs them), then a table of others.
FROM_CRON = [
    ("wallstreetcn", [], {"TIMEZONE": "Mars/Base"}, "setting TIMEZONE='Mars/Base' is refused (unknown time zone)"),
    ("wallstreetcn", [], {"WECHAT_JUNK_RULES": "{bad"}, "setting WECHAT_JUNK_RULES='{bad' is refused (not JSON"),
    ("wallstreetcn", [], {"ARTICLE_PATH": "content/{slug}.md"}, "ARTICLE_PATH='content/{slug}.md' is refused (unknown placeholder {slug})"),
    ("wallstreetcn", [], {"IMAGE_URL_REWRITES": "not json"}, "setting IMAGE_URL_REWRITES='not json' is refused (not JSON"),
    ("wallstreetcn", ["since=yesterday"], {}, "argument since='yesterday' is refused (not a date)"),
    ("wallstreetcn", ["foo=1"], {}, "argument foo='1' is refused (wallstreetcn takes no such argument)"),
    ("wallstreetcn", ["page=5"], {}, "argument page='5' is refused (wallstreetcn takes no such argument)"),
    ("wallstreetcn", ["demo=maybe"], {}, "argument demo='maybe' is refused (not a yes/no value)"),
    ("wallstreetcn", [], {"OUTPUT_DIR": ""}, "setting OUTPUT_DIR='' is refused (empty)"),
]
REFUSED = [
    # Numbers, dates and switches
    ("wallstreetcn", ["pages=0"], {}, "argument pages='0' is refused (less than 1)"),
    ("wallstreetcn", ["pages=two"], {}, "argument pages='two' is refused (not a whole number)"),
    ("wallstreetcn", ["since=2026-13-01"], {}, "argument since='2026-13-01' is refused (not a date)"),
    ("wallstreetcn", ["refresh=1", "force=1"], {}, "argument force='1' is refused (given twice, also as refresh)"),
    ("wallstreetcn", ["name=other"], {}, "argument name='other' is refused"),
    ("backfill", ["urls_file=-", "demo=1"], {}, "argument demo='1' is refused (backfill takes no such argument)"),
    ("wechat", ["urls=,"], {}, "argument urls=',' is refused (no item)"),
    ("wechat", [], {}, "wechat needs -a urls=… or -a urls_file=…"),
    ("backfill", [], {}, "backfill needs -a urls_file=…"),
    ("backfill", ["urls_file=/dev/zero"], {}, "argument urls_file='/dev/zero' is refused (urls_file='/dev/zero' is not a file (a device"),
    ("wechat", ["urls_file=/nonexistent/list.txt"], {}, "argument urls_file='/nonexistent/list.txt' is refused (urls_file='/nonexistent/list.txt' is not a file)"),
    ("backfill", ["urls_file=-", "force=yes", "refresh=no"], {}, "argument refresh='no' is refused (given twice, also as force)"),
    ("wallstreetcn", [], {"SUMMARY_LENGTH": "-5"}, "setting SUMMARY_LENGTH='-5' is refused (less than 1)"),
    ("wallstreetcn", [], {"LISTING_OVERLAP": "1h"}, "setting LISTING_OVERLAP='1h' is refused (not a whole number)"),
    ("wallstreetcn", [], {"DOWNLOAD_DELAY": "-1"}, "setting DOWNLOAD_DELAY='-1' is refused (negative)"),
    ("wallstreetcn", [], {"DOWNLOAD_TIMEOUT": "0"}, "setting DOWNLOAD_TIMEOUT='0' is refused (must be more than 0)"),
    ("wallstreetcn", [], {"RETRY_ENABLED": "sometimes"}, "setting RETRY_ENABLED='sometimes' is refused (not a yes/no value)"),
    ("wallstreetcn", [], {"RETRY_HTTP_CODES": "503,abc"}, "setting RETRY_HTTP_CODES='503,abc' is refused (not a whole number)"),
    ("wallstreetcn", [], {"RETRY_HTTP_CODES": "999"}, "setting RETRY_HTTP_CODES='999' is refused (999 is not an HTTP status)"),
    ("wallstreetcn", [], {"SITE_PUSH_ATTEMPTS": "0"}, "setting SITE_PUSH_ATTEMPTS='0' is refused (less than 1)"),
    ("wallstreetcn", [], {"CONCURRENT_REQUESTS_PER_DOMAIN": "0"}, "setting CONCURRENT_REQUESTS_PER_DOMAIN='0' is refused"),
    # Structures and the regexes inside them
    ("wallstreetcn", [], {"WECHAT_JUNK_RULES": '{"*": {"blocks": ["("]}}'}, "setting WECHAT_JUNK_RULES='{\"*\": {\"blocks\": [\"(\"]}}' is refused (bad regex '('"),
    ("wallstreetcn", [], {"WECHAT_JUNK_RULES": '{"*": {"footer": []}}'}, "is refused (rules of '*' have unknown key 'footer')"),
    ("wallstreetcn", [], {"IMAGE_URL_REWRITES": '[["a(", "b"]]'}, "setting IMAGE_URL_REWRITES='[[\"a(\", \"b\"]]' is refused (bad regex 'a('"),
    ("wallstreetcn", [], {"IMAGE_URL_REWRITES": '[["^a", "\\\\2"]]'}, "is refused (bad replacement"),
    ("wallstreetcn", [], {"IMAGE_URL_REWRITES": '[["^a"]]'}, "is refused (rule ['^a'] is not a [regex, replacement] pair)"),
    ("wallstreetcn", [], {"DISCLAIMERS": '{"wechat": 1}'}, "setting DISCLAIMERS='{\"wechat\": 1}' is refused (not a JSON object of strings)"),
    ("wallstreetcn", [], {"FRONT_MATTER": "[]"}, "setting FRONT_MATTER='[]' is refused (not a non-empty JSON object)"),
    ("wallstreetcn", [], {"ALLOWED_PRIVATE_NETWORKS": '["10.0.0.0/33"]'}, "setting ALLOWED_PRIVATE_NETWORKS='[\"10.0.0.0/33\"]' is refused"),
    ("wallstreetcn", [], {"SHARE_ALLOWED_HOSTS": "mp.weixin.qq.com,bad host"}, "setting SHARE_ALLOWED_HOSTS='mp.weixin.qq.com,bad host' is refused"),

    ("wallstreetcn", [], {"REPORTS_KEEP": "-1"}, "setting REPORTS_KEEP='-1' is refused (less than 0)"),
    # Names and addresses
    ("wallstreetcn", [], {"WALLSTREETCN_API_BASE": "api.example.com"}, "setting WALLSTREETCN_API_BASE='api.example.com' is refused (not an http(s) URL)"),
    ("wechat", [WECHAT_URL], {"WECHAT_BASE": "ftp://x"}, "setting WECHAT_BASE='ftp://x' is refused (not an http(s) URL)"),
    ("wallstreetcn", [], {"WECHAT_SOURCE_NAME": "../x"}, "setting WECHAT_SOURCE_NAME='../x' is refused (not a plain name)"),
    ("wallstreetcn", [], {"SITE_COMMIT_AUTHOR": "bot"}, "setting SITE_COMMIT_AUTHOR='bot' is refused (not 'Name <email>')"),
    # Where files go
    ("wallstreetcn", [], {"ARTICLE_PATH": "/srv/{id}.md"}, "setting ARTICLE_PATH='/srv/{id}.md' is refused (not a relative path)"),
    ("wallstreetcn", [], {"ARTICLE_PATH": "../{source}/{id}.md"}, "is refused (leaves the output root)"),
    ("wallstreetcn", [], {"ARTICLE_PATH": "content/{source}.md"}, "is refused (no {id}: every article would get the same file)"),
    ("wallstreetcn", [], {"ARTICLE_PATH": "content/{id}.html"}, "is refused (not a .md file)"),
    ("wallstreetcn", [], {"ARTICLE_PATH": "content/{id.md"}, "is refused (malformed placeholder"),
    ("wallstreetcn", [], {"ARTICLE_PATH": "content/{id!r}.md"}, "is refused (placeholder {id} with a format)"),
]


def one_error_line(log: str) -> str:
    lines = [line for line in log.splitlines() if line.strip()]
    assert len(lines) == 1, log
    assert lines[0].startswith("scrapy crawl: error: "), log
    assert "Traceback" not in log
    return lines[0]


def crawl_in_process(spider: str, output: Path, *args: str, settings: dict[str, str]) -> tuple[int, str]:
    """``scrapy crawl`` through Scrapy's own ``execute``, in this process (fast: the checks end it before any crawl)."""
    command = crawl_command(spider, output, *args, settings=settings)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
            pytest.raises(SystemExit) as exited:
        execute(["scrapy", *command[3:]])
    return int(exited.value.code or 0), stdout.getvalue() + stderr.getvalue()


@pytest.mark.parametrize(("spider", "args", "settings", "named"), FROM_CRON, ids=[n[:60] for *_, n in FROM_CRON])
def test_refused_before_anything_starts(tmp_path: Path, spider: str, args: list[str], settings: dict[str, str],
                                        named: str) -> None:
    result = run_crawl(spider, tmp_path / "out", *args, settings=settings)
    line = one_error_line(result.log)
    assert result.returncode == 1
    assert named in line
    assert "; accepted: " in line
    assert list(tmp_path.iterdir()) == []  # no output folder, state db or report


@pytest.mark.parametrize(("spider", "args", "settings", "named"), REFUSED, ids=[n[:60] for *_, n in REFUSED])
def test_refused_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spider: str, args: list[str],
                       settings: dict[str, str], named: str) -> None:
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "crawler.settings")  # execute() sets it: undone after the test
    status, log = crawl_in_process(spider, tmp_path / "out", *args, settings=settings)
    line = one_error_line(log)
    assert status == 1
    assert named in line
    assert "; accepted: " in line
    assert list(tmp_path.iterdir()) == []


def git_checkout(path: Path) -> Path:
    subprocess.run(["git", "init", "--quiet", str(path)], check=True)
    return path


@pytest.mark.parametrize("where", ["plain folder", "missing", "inside a checkout", "a file"])
def test_site_repo_must_be_the_top_of_a_checkout(tmp_path: Path, where: str) -> None:
    """The cron mistake: a SITE_REPO that is no checkout used to get the files, recorded as stored, and exit 5."""
    target = {
        "plain folder": tmp_path / "site",
        "missing": tmp_path / "nowhere",
        "inside a checkout": tmp_path / "site" / "content",
        "a file": tmp_path / "site" / "README",
    }[where]
    (tmp_path / "site").mkdir()
    if where in ("inside a checkout", "a file"):
        git_checkout(tmp_path / "site")
        (tmp_path / "site" / "content").mkdir()
        (tmp_path / "site" / "README").write_text("site\n", encoding="utf-8")
    before = sorted(tmp_path.rglob("*"))
    result = run_crawl("wallstreetcn", tmp_path / "out", f"site_repo={target}")
    line = one_error_line(result.log)
    assert result.returncode == 1
    assert f"setting SITE_REPO='{target}' is refused (" in line
    assert "accepted: the top folder of a git checkout" in line
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("name", ["OUTPUT_DIR", "STATE_PATH", "REPORTS_DIR", "JOBDIR"])
def test_folders_must_be_creatable(tmp_path: Path, name: str) -> None:
    """A path under a regular file can never be created (checked by type: the tests may run as root)."""
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    result = run_crawl("wallstreetcn", tmp_path / "out", settings={name: str(blocker / "x")})
    line = one_error_line(result.log)
    assert result.returncode == 1
    assert f"setting {name}='{blocker / 'x'}' is refused ({blocker} is not a folder)" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]


def test_unknown_spider_is_one_line(tmp_path: Path) -> None:
    result = run_crawl("wallstreetcm", tmp_path / "out")
    line = one_error_line(result.log)
    assert result.returncode == 1
    assert line == "scrapy crawl: error: spider 'wallstreetcm' is refused (no such spider); accepted: backfill, infoq, pingwest, wallstreetcn, web, wechat"


def test_good_values_crawl_and_reach_the_code_parsed(tmp_path: Path) -> None:
    """Values Scrapy itself would not read (``no``, JSON text) are handed on parsed: ``getbool('no')`` would raise."""
    rewrites = '[["^https://wpimg-wscn\\\\.awtmt\\\\.com/", "https://img.example.org/"]]'
    result = run_crawl("wallstreetcn", tmp_path / "out", "demo=y", "refresh=yes", settings={
        "AUTOTHROTTLE_ENABLED": "no", "RETRY_ENABLED": "off", "IMAGE_URL_REWRITES": rewrites,
        "WECHAT_JUNK_RULES": '{"*": {"blocks": ["关注我们"]}}', "RETRY_HTTP_CODES": "500,503", "TIMEZONE": "Asia/Shanghai",
    })
    assert result.returncode == 0, result.log
    assert "Traceback" not in result.log
    files = result.files()
    assert sorted(files) == [f"{POSTS}/3740710.md", f"{POSTS}/3782700.md"]
    text = files[f"{POSTS}/3740710.md"].decode()
    assert "https://img.example.org/" in text
    assert "wpimg-wscn.awtmt.com" not in text


def test_since_without_pages_reads_until_since(tmp_path: Path) -> None:
    """``since`` alone used to stop after one page (``pages`` defaulted to 1)."""
    with MockServer(wscn_routes(), tmp_path) as server:
        result = run_crawl("wallstreetcn", tmp_path / "out", "since=2025-01-01", settings={"WALLSTREETCN_API_BASE": server.url})
        listing = [r for r in server.requests() if "/articles?" in r]
    assert result.returncode == 3, result.log  # the recording's 3782699 answers an API error
    assert len(listing) == 3  # every page: nothing in the recording is older than 2025-01-01
    assert f"{POSTS}/3740710.md" in result.files()  # on page 2


def test_pages_still_caps_since(tmp_path: Path) -> None:
    with MockServer(wscn_routes(), tmp_path) as server:
        run_crawl("wallstreetcn", tmp_path / "out", "since=2025-01-01", "pages=1", settings={"WALLSTREETCN_API_BASE": server.url})
        listing = [r for r in server.requests() if "/articles?" in r]
    assert listing == ["/apiv1/content/articles?limit=30"]


# --- The parsers directly ------------------------------------------------------------------------


def test_arguments_are_typed_and_force_is_refresh() -> None:
    assert parse_arguments(WallstreetcnSpider, {"pages": "3", "since": "2026-11-29T08:00", "refresh": "On"}) == {
        "pages": 3, "since": datetime(2026, 11, 29, 8, 0), "refresh": True}
    assert parse_arguments(BackfillSpider, {"urls_file": "-", "force": "1"}) == {"urls_file": "-", "refresh": True}
    assert parse_arguments(WechatSpider, {"urls": "a", "refresh": "n"}) == {"urls": "a", "refresh": False}
    for word in ("1", "TRUE", "yes", "on", "Y"):
        assert parse_arguments(WallstreetcnSpider, {"demo": word}) == {"demo": True}
    for word in ("0", "False", "NO", "off", "n"):
        assert parse_arguments(WallstreetcnSpider, {"demo": word}) == {"demo": False}


def test_unknown_argument_lists_what_the_spider_takes() -> None:
    with pytest.raises(Refused) as refused:
        parse_arguments(BackfillSpider, {"urls_file": "-", "urls": "x"})
    assert str(refused.value) == (
        "argument urls='x' is refused (backfill takes no such argument); "
        "accepted: -a with one of site_repo, urls_file, refresh (alias force)")


def test_json_settings_are_written_back_parsed(tmp_path: Path) -> None:
    settings = Settings({"OUTPUT_DIR": str(tmp_path / "out")})
    settings.set("IMAGE_URL_REWRITES", '[["^a", "b"]]', priority="cmdline")
    settings.set("ALLOWED_PRIVATE_NETWORKS", "127.0.0.1/8,10.0.0.0/8", priority="cmdline")
    settings.set("RETRY_HTTP_CODES", "[503]", priority="cmdline")
    settings.set("PROGRESS_INTERVAL", "2.5", priority="cmdline")
    check_settings(settings)
    assert settings["IMAGE_URL_REWRITES"] == [["^a", "b"]]
    assert settings["ALLOWED_PRIVATE_NETWORKS"] == ["127.0.0.0/8", "10.0.0.0/8"]
    assert settings["RETRY_HTTP_CODES"] == [503]
    assert settings["PROGRESS_INTERVAL"] == "2.5"  # numbers are read as given (Scrapy's getfloat)
    assert settings.getpriority("IMAGE_URL_REWRITES") == settings.getpriority("OUTPUT_DIR") + 20  # cmdline kept
    assert not (tmp_path / "out").exists()


def test_project_settings_pass_and_a_checkout_is_a_site_repo(tmp_path: Path) -> None:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("OUTPUT_DIR", str(tmp_path / "out"))
    check_run(settings, WallstreetcnSpider, {"site_repo": str(git_checkout(tmp_path / "site"))})
    assert settings["SITE_REPO"] == str(tmp_path / "site")
    assert settings["IMAGE_URL_REWRITES"] == [list(rule) for rule in DEFAULT_RULES]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_demo_routes_exist_for_spiders_taking_demo() -> None:
    """``-a demo=1`` is offered only where there is a recording to replay."""
    for spider in (WallstreetcnSpider, WechatSpider, BackfillSpider):
        takes_demo = any(a.name == "demo" for a in spider.arguments)
        assert takes_demo == (ROOT / "demo" / f"{spider.name}.json").is_file()
