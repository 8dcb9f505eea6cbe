"""The item every spider yields and every pipeline stage reads."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Attribution:
    """Where a republished piece came from, shown as ``来源：[name](url)，原文标题：《title》``."""

    name: str
    url: str = ""
    title: str = ""


@dataclass
class Article:
    """One article as a source delivered it, before conversion.

    ``body_html`` is already free of the source's own quirks (lazy images,
    site disclaimers, editor scaffolding); the shared stages only do what is
    true of any HTML article.
    """

    source: str  #: source label, e.g. "wallstreetcn"; also the category/tag and footer label
    id: str  #: identity within the source; names the output file
    url: str  #: canonical page URL, linked at the end of the file
    title: str
    published: int  #: unix seconds (UTC)
    body_html: str
    cover: str = ""  #: thumbnail URL ("" when none)
    attribution: Attribution | None = None  #: appended when the body carries none itself
    #: other identities of the same article (e.g. "wechat:<id>" for a republish)
    aliases: list[str] = field(default_factory=list)
    #: unix seconds of the last upstream change seen, shown as ``lastmod`` (None: never changed)
    lastmod: int | None = None
    #: filled by the render stage
    document: str = ""
    #: filled by the write stage: path relative to the output root
    path: str = ""

    @property
    def key(self) -> str:
        """Global identity, unique across sources."""
        return f"{self.source}:{self.id}"
