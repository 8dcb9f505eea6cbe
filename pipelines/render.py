"""Article to Hugo document: front matter plus Markdown body with attribution, disclaimer and origin link."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pipelines import clean, escape, markdown, shortcodes, summary
from pipelines.article import INVALID_TEXT, Article, Attribution
from pipelines.frontmatter import FrontMatterError, dump_document, scalar
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
    """The article cannot become a publishable document (e.g. nothing left after cleaning).

    ``reason`` is the failure's name in the run report.
    """

    def __init__(self, detail: str, reason: str = "render"):
        super().__init__(detail)
        self.reason = reason

    def __reduce__(self) -> tuple[type[RenderError], tuple[str, str]]:
        return RenderError, (str(self), self.reason)  # raised in a render worker, it keeps its reason


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


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>\"'])")
#: ``--`` and ``..``: Hugo's typographer makes dashes and ellipses of them unless escaped (``pipelines.escape``).
_TYPOGRAPHIC_RUN = re.compile(r"--+|\.\.+")
#: ``{{%`` (``{{<`` has its ``<`` escaped already): ``{\{%`` reads the same and runs nothing.
_SHORTCODE = re.compile(r"\{(?=\{%)")
_LINE_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]\s*")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_inline(text: str) -> str:
    """Plain text, on one line, as Markdown that shows exactly it: no markup, link, HTML or shortcode."""
    text = _MD_SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", text))
    text = _TYPOGRAPHIC_RUN.sub(lambda run: "".join("\\" + char for char in run.group()), text)
    return _SHORTCODE.sub(r"{\\", text)


def link(label: str, url: str) -> str:
    """``[label](url)``, or the label alone when ``url`` is not an http(s) URL on one line."""
    target = None if _CONTROLS.search(url.strip()) else clean.destination(url, relative=False)
    if target is None:
        return escape_inline(label)
    return f"[{escape_inline(label)}]({target.replace('(', '%28').replace(')', '%29')})"


def attribution_line(attribution: Attribution) -> str:
    name = link(attribution.name, attribution.url)
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


def summary_markdown(text: str) -> str:
    """The summary as Markdown showing its text (Hugo renders a front-matter summary); the cut's own
    ``...`` stays as the site has it (Hugo shows it as ``…``)."""
    cut = text.endswith(summary.ELLIPSIS)
    return escape.text(text.removesuffix(summary.ELLIPSIS)) + (summary.ELLIPSIS if cut else "")


def front_matter(article: Article, summary_text: str, thumbnail: str, config: RenderConfig) -> dict[str, Any]:
    values = {
        "title": article.title,
        "date": format_date(article.published, config.timezone),
        "summary": summary_markdown(summary_text),
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


def add_lastmod(document: str, lastmod: int, timezone: str) -> str:
    """What ``render`` makes of an article with ``lastmod`` set, from the ``document`` it made without
    it: the same text with one more front matter line, after ``date``'s (where ``with_lastmod`` puts
    the key). An article changed upstream is so rendered once: its content hash is taken without
    ``lastmod``, and only then is ``lastmod`` known. Front matter values are one-line JSON strings,
    so the front matter ends at the first ``---`` line."""
    head, end, body = document.partition("\n---\n")
    lines = head.split("\n")  # "---", then the front matter's lines
    keys = [at for at, line in enumerate(lines) if at and not line.startswith(" ")]
    date = next((at for at in keys if lines[at].startswith("date:")), None)
    at = len(lines) if date is None else next((at for at in keys if at > date), len(lines))
    lines.insert(at, f"lastmod: {scalar(format_date(lastmod, timezone))}")
    return "\n".join(lines) + end + body


def thumbnail_url(article: Article, rewrite: ImageRewriter) -> str | None:
    """The cover as ``thumbnail``: its remote URL, or its bundle copy as a site path
    (``posts/<source>/<id>/<file>``): Mainroad passes ``thumbnail`` through ``relURL`` on list pages
    and on the page, where a page-relative name would point at the site root."""
    remote = rewrite(article.cover)
    local = article.local_images.get(remote) and (article.local_thumbnail or article.local_images[remote])
    if local and article.bundle_url:
        return clean.destination(article.bundle_url + local)
    return clean.destination(remote, relative=False)


def render(article: Article, config: RenderConfig) -> str:
    """The complete file content for ``article``."""
    rules = ImageRewriter(config.image_rules)

    def rewrite(url: str) -> str:  # a localized image by its file name in the bundle, beside the page
        remote = rules(url)
        return article.local_images.get(remote, remote)

    soup = clean.clean(clean.parse(article.body_html), rewrite)
    summary_text = summary.summarize(soup, config.summary_length, article.description, article.title)
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
    thumbnail = thumbnail_url(article, rules) if article.cover.strip() else None
    metadata = front_matter(article, summary_text, thumbnail or "", config)
    # The safety net: whatever path text took, Hugo finds no shortcode or summary divider in it.
    body = shortcodes.neutralize("\n\n".join(parts))
    invalid = [key for key, value in metadata.items()
               if any(INVALID_TEXT.search(str(item)) for item in (value if isinstance(value, list) else [value]))]
    if invalid:
        raise RenderError(f"invalid characters in front matter {', '.join(invalid)}", reason="front-matter")
    try:
        document = dump_document(metadata, body)
        document.encode("utf-8")
    except FrontMatterError as error:
        raise RenderError(str(error), reason="front-matter") from None
    except UnicodeEncodeError as error:
        raise RenderError(f"not valid Unicode: {error}") from None
    return document
