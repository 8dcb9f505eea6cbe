"""Per-stage CPU cost of one article, in-process, next to bare html2text on the same HTML.

Each stage calls the project's own functions in the order a crawl does (the source's
parse and classification, then ``pipelines.render``'s steps, then the write), one call at
a time, and keeps the median CPU time of ``repeat`` calls.
"""

from __future__ import annotations

import gzip
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crawler.sources import wallstreetcn, wechat
from pipelines import clean, markdown, render, summary
from pipelines.frontmatter import dump_document
from pipelines.images import ImageRewriter
from pipelines.write import write_atomic

from benchmarks.synthetic import DETAIL, WECHAT_PAGE

STAGES = ("parse", "classify/metadata", "clean", "convert", "front matter", "write")


def _cpu_ms(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median CPU milliseconds of ``call`` over ``repeat`` runs, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.process_time()
        result = call()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times), result


def _render_stages(article: Any, repeat: int, times: dict[str, float]) -> None:
    """clean, convert, front matter and write of ``article`` (render's steps), the whole
    ``render`` and bare html2text on the article's HTML."""
    config = render.RenderConfig(disclaimers={"wallstreetcn": wallstreetcn.DISCLAIMER, "wechat": wechat.DISCLAIMER})
    rewrite = ImageRewriter(config.image_rules)
    times["clean"], _ = _cpu_ms(lambda: clean.clean(clean.parse(article.body_html), rewrite), repeat)
    converts = []
    for _ in range(repeat):
        soup = clean.clean(clean.parse(article.body_html), rewrite)
        start = time.process_time()
        text = summary.summarize(soup, config.summary_length)
        markdown.html_to_markdown(soup)
        converts.append((time.process_time() - start) * 1000)
    times["convert"] = statistics.median(converts)
    times["front matter"], _ = _cpu_ms(lambda: dump_document(render.front_matter(article, text, "", config), "body"), repeat)
    document = render.render(article, config)
    with tempfile.TemporaryDirectory() as folder:
        times["write"], _ = _cpu_ms(lambda: write_atomic(Path(folder) / "a.md", document), repeat)
    times["render (all)"], _ = _cpu_ms(lambda: render.render(article, config), repeat)
    times["bare html2text"], _ = _cpu_ms(lambda: markdown._converter().handle(article.body_html), repeat)


def wallstreetcn_stages(repeat: int = 5) -> dict[str, float]:
    """CPU ms per stage of the benchmark's wallstreetcn article (a detail answer)."""
    body = DETAIL.read_bytes()
    times: dict[str, float] = {}
    times["parse"], data = _cpu_ms(lambda: wallstreetcn.envelope_data(body), repeat)
    times["classify/metadata"], article = _cpu_ms(lambda: wallstreetcn.article_from_detail(data), repeat)
    _render_stages(article, repeat, times)
    return times


def wechat_stages(repeat: int = 5) -> dict[str, float]:
    """CPU ms per stage of the benchmark's saved WeChat page (3 MB), read as a worker reads it: from
    its UTF-8 bytes (``wechat.classify_utf8``)."""
    body = gzip.decompress(WECHAT_PAGE.read_bytes())

    def classify() -> wechat.Page:
        page = wechat.classify_utf8(body, "")
        assert page is not None, "the benchmark page is valid UTF-8"
        return page

    times: dict[str, float] = {}
    times["parse"], page = _cpu_ms(classify, repeat)
    extracts = []
    for _ in range(repeat):
        page = classify()
        start = time.process_time()
        article = wechat.article_from_page(page)
        extracts.append((time.process_time() - start) * 1000)
    times["classify/metadata"] = statistics.median(extracts)
    _render_stages(article, repeat, times)
    return times


def as_json(times: dict[str, float]) -> str:
    return json.dumps({name: round(ms, 2) for name, ms in times.items()})
