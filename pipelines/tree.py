"""Tree queries for the cleaning and conversion stages, without BeautifulSoup's filters.

``find_all``/``find``/``find_parent`` build a filter object per call and pass every node
through it; the stages ask dozens of them per article, which was most of a render's
time. These walk the tree directly and give the same nodes in the same (document)
order; lists are taken whole before the caller changes the tree, as ``find_all``'s are.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from bs4 import NavigableString, PageElement, Tag


def _names(names: str | Collection[str]) -> Collection[str]:
    return (names,) if isinstance(names, str) else names


def tags(root: Tag, names: str | Collection[str] | None = None, where: Callable[[Tag], bool] | None = None) -> list[Tag]:
    """The elements under ``root`` (named one of ``names``, when given; for which ``where`` holds, when given)."""
    found = [node for node in root.descendants if isinstance(node, Tag)]
    if names is not None:
        wanted = _names(names)
        found = [node for node in found if node.name in wanted]
    return found if where is None else [node for node in found if where(node)]


def strings(root: Tag) -> list[NavigableString]:
    """Every string under ``root`` (text, comments, doctype, script text: ``find_all(string=True)``)."""
    return [node for node in root.descendants if isinstance(node, NavigableString)]


def first(root: Tag, names: str | Collection[str]) -> Tag | None:
    """The first element under ``root`` named one of ``names`` (``find``)."""
    wanted = _names(names)
    return next((node for node in root.descendants if isinstance(node, Tag) and node.name in wanted), None)


def ancestor(node: PageElement, names: str | Collection[str]) -> Tag | None:
    """The nearest element above ``node`` named one of ``names`` (``find_parent``)."""
    wanted = _names(names)
    return next((parent for parent in node.parents if parent.name in wanted), None)
