"""Rendered articles on the wire to the writer: JSON, never pickle.

Whoever can write to the crawl's Redis can put entries in the writer's stream; with pickle that
was running code in the writer. An article travels instead as JSON of its dataclass fields (the
raw source's bytes in base64), and the writer rebuilds it only from fields and types the dataclasses
declare: anything else (not JSON, an unknown or missing field, a wrong type, bad base64) is
``Malformed``, which the writer records as a failure instead of crashing.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import json
import re
import types
from typing import Any, Union, get_args, get_origin, get_type_hints

from pipelines.article import Article

#: version of the encoding, checked on decoding (workers and writer of one crawl run one release)
FORMAT = 1
#: failure name of an entry the writer cannot read (permanent: ``crawler.outcomes``)
MALFORMED_ENTRY = "malformed-entry"
#: outcome entries (``crawler.distributed.worker.FORWARDED``): their text fields
OUTCOME_KINDS = ("skipped", "failed", "listing_failed")
OUTCOME_FIELDS = ("url", "reason", "detail")
#: a reason as ``crawler.outcomes`` names them (kebab-case, ``http-404``, an exception class name)
REASON = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class Malformed(ValueError):
    """An entry that is not an article as ``encode_article`` writes one; the message says why."""


def encode_article(article: Article) -> bytes:
    return json.dumps({"format": FORMAT, "article": _plain(article)}, separators=(",", ":")).encode("ascii")


def decode_article(data: bytes) -> Article:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed(f"not JSON ({exc})") from None
    if not isinstance(document, dict) or set(document) != {"format", "article"} or document["format"] != FORMAT:
        raise Malformed(f"not an article entry of format {FORMAT}")
    return _build(Article, document["article"], "article")


def decode_outcome(kind: bytes, data: bytes) -> tuple[str, dict[str, str]]:
    """A worker's skip or failure: its kind and its url, reason and detail (other fields dropped:
    the writer classes a failure itself)."""
    name = kind.decode("ascii", "replace")
    if name not in OUTCOME_KINDS:
        raise Malformed(f"unknown entry kind {name[:40]!r}")
    try:
        fields = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed(f"{name} entry is not JSON ({exc})") from None
    if not isinstance(fields, dict) or not all(isinstance(fields.get(n, ""), str) for n in OUTCOME_FIELDS):
        raise Malformed(f"{name} entry is not an object of texts {', '.join(OUTCOME_FIELDS)}")
    if not fields.get("url") or not REASON.fullmatch(fields.get("reason", "")):
        raise Malformed(f"{name} entry has no URL or no reason name")
    return name, {n: fields.get(n, "") for n in OUTCOME_FIELDS}


def _plain(value: Any) -> Any:
    """``value`` as JSON types: dataclasses as objects of their fields, bytes as base64."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _build(cls: type, value: Any, where: str) -> Any:
    """An instance of dataclass ``cls`` from the JSON object ``value``, every field type-checked."""
    if not isinstance(value, dict):
        raise Malformed(f"{where} is not an object")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - names)
    if unknown:
        raise Malformed(f"{where} has unknown field(s) {', '.join(map(repr, unknown))}")
    hints = _hints(cls)
    given = {name: _typed(hints[name], item, f"{where}.{name}") for name, item in value.items()}
    try:
        return cls(**given)
    except (TypeError, ValueError) as exc:  # a required field missing, or refused by the class
        raise Malformed(f"{where}: {exc}") from None


def _typed(hint: Any, value: Any, where: str) -> Any:
    """``value`` checked against the type ``hint`` (and rebuilt where JSON has no such type)."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [option for option in get_args(hint) if option is not type(None)]
        if value is None and len(options) < len(get_args(hint)):
            return None
        if len(options) == 1:  # X | None: say what is wrong with the X
            return _typed(options[0], value, where)
        for option in options:
            try:
                return _typed(option, value, where)
            except Malformed:
                continue
        raise Malformed(f"{where} is none of {hint}")
    if hint is Any:
        return value
    if hint is type(None):
        if value is None:
            return None
    elif hint is bytes:
        if isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise Malformed(f"{where} is not base64") from None
    elif hint in (str, bool):
        if type(value) is hint:
            return value
    elif hint is int:
        if type(value) is int:
            return value
    elif origin is list:
        if isinstance(value, list):
            return [_typed(get_args(hint)[0], item, f"{where}[{n}]") for n, item in enumerate(value)]
    elif origin is dict:
        if isinstance(value, dict):
            keys, values = get_args(hint)
            return {_typed(keys, key, where): _typed(values, item, f"{where}[{key!r}]") for key, item in value.items()}
    elif dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    else:
        raise Malformed(f"{where}: type {hint} does not travel")
    raise Malformed(f"{where} is not {getattr(hint, '__name__', hint)}")
