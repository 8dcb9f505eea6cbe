"""The wechat spider's argument handling (the crawl itself is in test_wechat_crawl.py)."""

from __future__ import annotations

from pathlib import Path

from crawler.spiders.wechat import read_urls


def test_urls_from_argument_and_file_with_paths_comments_and_repeats(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    listed = tmp_path / "urls.txt"
    listed.write_text(
        "# backfill\nhttps://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw\n\n  saved/page.html  \n"
        "https://mp.weixin.qq.com/s?__biz=MzIyNjMxOTY0NA==&mid=2247504179&idx=1#rd\n",
        encoding="utf-8",
    )
    assert read_urls(" https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw ,file:///srv/a.html,", str(listed)) == [
        "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw",
        "file:///srv/a.html",
        (tmp_path / "saved" / "page.html").as_uri(),
        "https://mp.weixin.qq.com/s?__biz=MzIyNjMxOTY0NA==&mid=2247504179&idx=1#rd",
    ]
