"""The safety boundary for output paths: where an article's file may go.

Every value that names a file (a source label, an article id) comes from outside:
an upstream answer, a page, a setting. A file path is built here only from parts
that cannot climb out of their folder or hide from Hugo, and the result must
resolve (symlinks followed) strictly inside the folder articles belong in, before
anything is written. Anything else is ``UnsafePath`` (failure ``unsafe-path``).
"""

from __future__ import annotations

import os
import stat
import string
import unicodedata
from functools import lru_cache
from pathlib import Path

#: Failure reason of an article whose file path is refused.
UNSAFE_PATH = "unsafe-path"
#: Fields ``ARTICLE_PATH`` may name.
FIELDS = ("source", "id")
#: Longest part in characters, and in UTF-8 bytes (a file name is at most 255 bytes, and the
#: temporary name of an atomic write adds about 15 to it).
MAX_PART_CHARS = 100
MAX_PART_BYTES = 200
#: File names Hugo reads as a section's or a bundle's own page, not as an article.
HUGO_PAGE_NAMES = frozenset({"index", "_index"})
#: Unicode categories a file name must not hold: controls, format characters (bidi overrides,
#: zero-width), line/paragraph separators, surrogates, private use and unassigned code points.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class UnsafePath(ValueError):
    """A path part or a whole path that must not be written."""

    reason = UNSAFE_PATH


def check_part(name: str, value: object) -> str:
    """``value`` if it is safe as one path component (no separator, not empty, no leading dot,
    no control character, sane length), else UnsafePath naming ``name``."""
    if not isinstance(value, str) or not value:
        raise UnsafePath(f"{name} {value!r} is empty or not text")
    if "/" in value or "\\" in value:
        raise UnsafePath(f"{name} {value!r} holds a path separator")
    if value.startswith("."):
        raise UnsafePath(f"{name} {value!r} starts with a dot (a hidden file, or a step out of the folder)")
    if value != value.strip():
        raise UnsafePath(f"{name} {value!r} starts or ends with white space")
    bad = next((c for c in value if unicodedata.category(c) in _FORBIDDEN_CATEGORIES), None)
    if bad is not None:
        raise UnsafePath(f"{name} {value!r} holds the control or invisible character U+{ord(bad):04X}")
    if len(value) > MAX_PART_CHARS or len(value.encode("utf-8")) > MAX_PART_BYTES:
        raise UnsafePath(f"{name} is {len(value)} characters long (at most {MAX_PART_CHARS})")
    return value


@lru_cache(maxsize=16)
def check_template(template: str) -> None:
    """An ``ARTICLE_PATH`` names only ``{source}`` and ``{id}``, bare (no attribute, index,
    conversion or format spec): anything else could read or pad values into the path."""
    try:
        fields = [(f, conv, spec) for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise UnsafePath(f"ARTICLE_PATH {template!r} is not a valid template ({exc})") from None
    for field, conversion, spec in fields:
        if field not in FIELDS or conversion or spec:
            raise UnsafePath(f"ARTICLE_PATH {template!r} may name only {{source}} and {{id}}, not {{{field}}}")
    if "{id}" not in template:
        raise UnsafePath(f"ARTICLE_PATH {template!r} does not name {{id}}: articles would share one file")


def article_path(root: Path, template: str, *, source: str, id: str, inside: Path | None = None) -> Path:
    """The absolute, resolved path of an article's file: ``root`` / ``template`` with the
    checked ``source`` and ``id``, strictly inside ``inside`` (default ``root``), no part of
    it hidden, not named as Hugo's ``index``/``_index`` pages. Raises UnsafePath otherwise."""
    return ArticlePaths(root, template, inside).article(source=source, id=id)


def bundle_path(root: Path, template: str, *, source: str, id: str, inside: Path | None = None) -> Path:
    """The ``index.md`` of an article's Hugo page bundle: ``ARTICLE_PATH``'s file without its suffix
    as a folder (``content/posts/<source>/<id>/index.md``), checked as ``article_path`` checks the
    file, and the folder itself resolving (symlinks followed) inside the boundary too."""
    return ArticlePaths(root, template, inside).bundle(source=source, id=id)


class ArticlePaths:
    """``article_path`` and ``bundle_path`` for one run's root, template and boundary, with what does
    not change per article done once: the template checked, the root and the boundary resolved, and
    each folder resolved once (a crawl writes thousands of files into one folder; resolving the whole
    path looked at every part of it, an ``lstat`` each, per article). Per article only the parts it
    names are looked at: its file (and its bundle's folder), resolved in full when it is a symlink."""

    #: folders whose resolution is kept; beyond it the cache starts again (one folder per bundle)
    FOLDERS_KEPT = 256

    def __init__(self, root: Path, template: str, inside: Path | None = None):
        check_template(template)
        self.template = template
        self.root = root.resolve()
        self.boundary = (inside if inside is not None else root).resolve()
        self._folders: dict[str, Path] = {}

    def article(self, *, source: str, id: str) -> Path:
        """``article_path`` of ``source`` and ``id``."""
        relative = Path(self.template.format(source=check_part("source", source), id=check_part("id", id)))
        hidden = [part for part in relative.parts if part.startswith(".")]
        if relative.is_absolute() or hidden or not relative.parts:
            raise UnsafePath(f"{relative} is absolute, empty or has a hidden or parent part ({', '.join(hidden)})")
        if relative.stem.lower() in HUGO_PAGE_NAMES:
            raise UnsafePath(f"{relative.name} is a Hugo section or bundle page: it would hide the folder's other articles")
        path = self._resolve(self.root / relative)
        if path == self.boundary or not path.is_relative_to(self.boundary):
            raise UnsafePath(f"{path} is not inside {self.boundary}")
        return path

    def bundle(self, *, source: str, id: str) -> Path:
        """``bundle_path`` of ``source`` and ``id``."""
        page = self.article(source=source, id=id)
        folder = self._resolve(page.with_suffix(""))
        if folder == self.boundary or not folder.is_relative_to(self.boundary) or folder.parent != page.parent:
            raise UnsafePath(f"bundle folder {folder} is not beside {page} inside {self.boundary}")
        return folder / "index.md"

    def _resolve(self, path: Path) -> Path:
        """``path.resolve()``: its folder's resolution from the cache, its last part looked at (a symlink,
        or anything unexpected, resolves the whole path as before). The last part is never ``..``/``.``:
        the parts are checked (no leading dot)."""
        key = str(path.parent)
        folder = self._folders.get(key)
        if folder is None:
            folder = path.parent.resolve()
            if len(self._folders) >= self.FOLDERS_KEPT:
                self._folders.clear()
            self._folders[key] = folder
        try:
            linked = stat.S_ISLNK(os.lstat(folder / path.name).st_mode)
        except FileNotFoundError:
            linked = False
        except OSError:
            linked = True
        return path.resolve() if linked or path.name in ("", ".", "..") else folder / path.name
