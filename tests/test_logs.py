"""What a scheduled run logs: nothing alarming when all is well, a handful of lines when
there is nothing new, and its summary whatever LOG_LEVEL says. Real ``scrapy crawl`` runs."""

from __future__ import annotations

import logging

import pytest

from crawler.logs import SUMMARY, Demote
from tests.conftest import MockServer, free_routes, run_crawl


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    """A healthy first run, a no-op second run, and a no-op run at LOG_LEVEL=ERROR."""
    tmp = tmp_path_factory.mktemp("logs")
    out = tmp / "out"
    with MockServer(free_routes(), tmp) as server:
        settings = {"WALLSTREETCN_API_BASE": server.url}
        first = run_crawl("wallstreetcn", out, settings=settings)
        noop = run_crawl("wallstreetcn", out, settings=settings)
        quiet = run_crawl("wallstreetcn", out, settings=settings | {"LOG_LEVEL": "ERROR"})
    return first, noop, quiet


def test_a_healthy_run_logs_no_warning(runs) -> None:
    first, _, _ = runs
    assert first.returncode == 0, first.log
    assert first.report()["counts"]["new"] == 2
    assert "WARNING" not in first.log, first.log  # e.g. no deprecated setting, no "Disabled …PublishExtension"


def test_a_run_with_nothing_new_logs_a_handful_of_lines(runs) -> None:
    _, noop, _ = runs
    assert noop.returncode == 0, noop.log
    assert noop.report()["counts"]["new"] == 0
    lines = noop.log.splitlines()
    assert len(lines) <= 10, noop.log
    assert "WARNING" not in noop.log
    assert any("Run summary (wallstreetcn, finished" in line and line.endswith("exit status 0") for line in lines)


def test_the_summary_shows_at_log_level_error(runs) -> None:
    _, _, quiet = runs
    assert quiet.returncode == 0, quiet.log
    assert [line for line in quiet.log.splitlines() if not line.startswith("  ")] == [
        line for line in quiet.log.splitlines() if " SUMMARY: Run summary (wallstreetcn, finished" in line]
    assert "\n  report: " in quiet.log


def test_demoted_records_follow_the_handler_level() -> None:
    """The filter turns Scrapy's chatter into DEBUG records; errors keep their level."""
    logger = logging.getLogger("tests.logs.chatty")
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append  # type: ignore[method-assign]
    demote = Demote(("Enabled ",))
    logger.addHandler(handler)
    logger.addFilter(demote)
    logger.setLevel(logging.DEBUG)  # the handler decides, as Scrapy's root handler does
    try:
        logger.warning("Enabled extensions: %s", "x")
        logger.error("Enabled but broken")
        logger.info("Something else")
        logger.log(SUMMARY, "Run summary")
    finally:
        logger.removeHandler(handler)
        logger.removeFilter(demote)
    assert [(r.getMessage(), r.levelname) for r in records] == [
        ("Enabled but broken", "ERROR"), ("Something else", "INFO"), ("Run summary", "SUMMARY")]
