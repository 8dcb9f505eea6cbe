"""What each source's responses look like: parsing and quirks, one module per source.

Functions here take decoded response data and return ``pipelines.article.Article``
objects or raise ``SourceError``; they do no I/O, so they are testable on fixtures.
"""

from __future__ import annotations


class SourceError(Exception):
    """A response that cannot give an article. ``reason`` is a short stat-friendly code."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type[SourceError], tuple[str, str]]:
        return type(self), (self.reason, self.detail)  # raised in a parse worker, it keeps its reason


class SourceSkip(SourceError):
    """A response that deliberately gives no article (e.g. a paid preview): skipped, not failed."""
