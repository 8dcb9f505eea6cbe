"""Article to Hugo document: front matter plus Markdown body with attribution, disclaimer and origin link."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pipelines import clean, escape, markdown, summary
from pipelines.article import Article, Attribution
from pipelines.frontmatter import dump_document
from pipelines.images import DEFAULT_RULES, ImageRewriter

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

#: The site's front matter, in its key order. ``{placeholders}`` in strings are
#: filled per article: title, date, summary, source, thumbnail.
DEFAULT_FRONT_MATTER: dict[str, Any] = {
    "title": "{title}",
    "date": "{date}",
    "summary": "{summary}",
    "categories": ["{source}"],
    "lang": ["zh-CN"],
    "translations": ["zh-CN"],
    "tags": ["{source}"],
    "menu": "",
    "thumbnail": "{thumbnail}",
    "lead": "",
    "comments": False,
    "authorbox": False,
    "pager": True,
    "toc": False,
    "mathjax": False,
    "sidebar": "right",
    "widgets": ["search", "recent", "taglist"],
}


class RenderError(ValueError):
    """The article cannot become a publishable document (e.g. nothing left after cleaning)."""


@dataclass
class RenderConfig:
    front_matter: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_FRONT_MATTER))
    timezone: str = "Asia/Shanghai"
    summary_length: int = 50
    #: per-source disclaimer text, attached before the origin link
    disclaimers: Mapping[str, str] = field(default_factory=dict)
    image_rules: tuple[tuple[str, str], ...] = DEFAULT_RULES


def format_date(timestamp: int, timezone: str) -> str:
    """``timestamp`` as the site writes dates; a time Hugo could not read (or a missing
    one, 0) is an error: Hugo fails the build on a malformed year, and older versions
    silently date the page 0001-01-01."""
    try:
        moment = datetime.fromtimestamp(timestamp, ZoneInfo(timezone))
    except (OverflowError, OSError, ValueError) as error:
        raise RenderError(f"unusable publication time {timestamp!r}: {error}") from None
    if timestamp <= 0:
        raise RenderError(f"unusable publication time {timestamp!r} ({moment.isoformat()})")
    return moment.strftime(DATE_FORMAT)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def escape_inline(text: str) -> str:
    """Escape the characters that would turn plain text into Markdown markup."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def link(label: str, url: str) -> str:
    url = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{escape_inline(label)}]({url})"


def attribution_line(attribution: Attribution) -> str:
    name = link(attribution.name, attribution.url) if attribution.url else escape_inline(attribution.name)
    line = f"来源：{name}"
    if attribution.title:
        line += f"，原文标题：《{escape_inline(attribution.title)}》"
    return line


def _fill(template: Any, values: Mapping[str, str]) -> Any:
    if isinstance(template, str):
        return template.format_map(values)
    if isinstance(template, list | tuple):
        return [_fill(item, values) for item in template]
    return copy.deepcopy(template)


def front_matter(article: Article, summary_text: str, thumbnail: str, config: RenderConfig) -> dict[str, Any]:
    values = {
        "title": article.title,
        "date": format_date(article.published, config.timezone),
        "summary": escape.text(summary_text),  # Hugo renders a front-matter summary as Markdown
        "source": article.source,
        "thumbnail": thumbnail,
    }
    metadata = {key: _fill(value, values) for key, value in config.front_matter.items()}
    if article.lastmod is not None:
        metadata = with_lastmod(metadata, format_date(article.lastmod, config.timezone))
    return metadata


def with_lastmod(metadata: dict[str, Any], lastmod: str) -> dict[str, Any]:
    """``lastmod`` right after ``date`` (Hugo reads both), every other key where it was."""
    keys = list(metadata)
    at = keys.index("date") + 1 if "date" in metadata else len(keys)
    items = list(metadata.items())
    items.insert(at, ("lastmod", lastmod))
    return dict(items)


def render(article: Article, config: RenderConfig) -> str:
    """The complete file content for ``article``."""
    rewrite = ImageRewriter(config.image_rules)
    soup = clean.clean(clean.parse(article.body_html), rewrite)
    summary_text = summary.summarize(soup, config.summary_length)
    body = markdown.html_to_markdown(soup)
    if not body.strip():
        raise RenderError("empty body after cleaning")
    parts = [body]
    if article.attribution:
        parts.append(attribution_line(article.attribution))
    disclaimer = config.disclaimers.get(article.source, "").strip("\n")
    if disclaimer:
        parts.append(disclaimer)
    parts.append(link(article.source, article.url))
    metadata = front_matter(article, summary_text, rewrite(article.cover) if article.cover else "", config)
    return dump_document(metadata, "\n\n".join(parts))
