"""Image URL rewriting, so images load on our site.

Some hosts refuse to serve other sites (WeChat's ``mmbiz.qpic.cn`` answers a
placeholder to foreign Referers); rules map them to mirrors. Rules are ordered
``(regex, replacement)`` pairs from settings; the first that matches wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pipelines import clean

Rule = tuple[str, str]

DEFAULT_RULES: tuple[Rule, ...] = ((r"^(?:https?:)?//mmbiz\.qpic\.cn/", "https://mmbiz-qpic.wscn.net/"),)


class ImageRewriter:
    def __init__(self, rules: Iterable[Sequence[str]] = DEFAULT_RULES):
        self.rules = [(re.compile(pattern), repl) for pattern, repl in rules]

    def __call__(self, url: str) -> str:
        for pattern, repl in self.rules:
            new, count = pattern.subn(repl, url, count=1)
            if count:
                return new
        return url


def article_image_urls(body_html: str, cover: str, rewrite: ImageRewriter) -> list[str]:
    """The image URLs (after the rules) an article shows: its body's images as rendering cleans them,
    then its cover; each once, in order. Keys of ``Article.local_images``."""
    found: list[str] = []

    def record(url: str) -> str:
        found.append(rewrite(url))
        return found[-1]

    clean.clean(clean.parse(body_html), record)
    if cover.strip():
        found.append(rewrite(cover))
    return list(dict.fromkeys(found))
