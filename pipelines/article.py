"""The item every spider yields and every pipeline stage reads."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipelines.archive import RawSource

#: Text no file of ours may hold: lone surrogates (not encodable as UTF-8), C0/C1 controls
#: but tab and newline, and noncharacters; YAML rejects them and Hugo fails the whole site.
INVALID_TEXT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17))
    + "]"
)
#: Where ``INVALID_TEXT`` can match, as ranges: its BMP characters and every astral one (most astral
#: characters are valid, and kept). A regex reads these ranges several times faster than the 34 astral
#: noncharacters one by one (~0.4 ms against ~3 ms for a 40,000-character WeChat body).
_SUSPECT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff\U00010000-\U0010ffff]")
_LINE_SEPARATORS = re.compile("\r\n?|[\u2028\u2029]")


def _repaired(match: re.Match[str]) -> str:
    """A ``_SUSPECT`` character as ``repair_text`` leaves it."""
    char = match.group()
    if char > "\uffff":
        return "" if ord(char) & 0xFFFE == 0xFFFE else char  # U+1FFFE, U+1FFFF, … U+10FFFF are noncharacters
    return "\ufffd" if "\ud800" <= char <= "\udfff" else ""


def repair_text(text: str) -> str:
    """``text`` as valid Unicode a file can hold: line ends (CR, U+2028/9) as newlines, lone
    surrogates as U+FFFD, other invalid characters (``INVALID_TEXT``) removed."""
    if "\r" in text or "\u2028" in text or "\u2029" in text:
        text = _LINE_SEPARATORS.sub("\n", text)
    return _SUSPECT.sub(_repaired, text)


@dataclass(frozen=True)
class Attribution:
    """Where a republished piece came from, shown as ``来源：[name](url)，原文标题：《title》``."""

    name: str
    url: str = ""
    title: str = ""

    def __post_init__(self) -> None:
        for name in ("name", "url", "title"):
            object.__setattr__(self, name, repair_text(getattr(self, name)))


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
    #: the page's own short description (WeChat msg_desc, wallstreetcn content_short): the
    #: summary of a body without text, e.g. an image share ("" when none)
    description: str = ""
    attribution: Attribution | None = None  #: appended when the body carries none itself
    #: other identities of the same article (e.g. "wechat:<id>" for a republish)
    aliases: list[str] = field(default_factory=list)
    #: unix seconds of the last upstream change seen, shown as ``lastmod`` (None: never changed)
    lastmod: int | None = None
    #: image URLs (after ``IMAGE_URL_REWRITES``) whose copies sit in the article's page bundle → file name
    local_images: dict[str, str] = field(default_factory=dict)
    #: file name in the bundle of a smaller copy of the cover for list pages ("": the cover's own copy)
    local_thumbnail: str = ""
    #: the bundle's folder as a site path (``posts/<source>/<id>/``), for a localized ``thumbnail``
    bundle_url: str = ""
    #: filled by the render stage
    document: str = ""
    #: filled by the write stage: path relative to the output root
    path: str = ""
    #: the response it was parsed from, kept in the raw archive (``pipelines/archive.py``) for re-renders
    raw: RawSource | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Upstream text as valid Unicode before any stage reads it (identities are the
        # sources' to check: repairing them would silently name another file).
        self.title = repair_text(self.title)
        self.body_html = repair_text(self.body_html)
        self.cover = repair_text(self.cover)
        self.description = repair_text(self.description)

    @property
    def key(self) -> str:
        """Global identity, unique across sources."""
        return f"{self.source}:{self.id}"
