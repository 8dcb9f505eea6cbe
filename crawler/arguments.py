"""Typed ``-a name=value`` arguments: each spider declares the ones it takes.

A spider's ``arguments`` class attribute lists ``Argument`` specs (name, parser,
accepted values, aliases). ``parse_arguments`` turns the strings Scrapy hands over
into typed values, and refuses a name the spider does not take (Scrapy would
silently set it as an attribute) or a value its parser rejects, with one line
naming the argument and what is accepted. The ``crawl`` command calls it through
``crawler.checks`` before anything starts; spiders call it again in
``from_crawler`` so they get typed values however they are started.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: Longest value quoted in a refusal: the line must stay one line, yet show a whole path an operator typed.
SHOWN_MAX = 240

TRUE_WORDS = frozenset({"1", "true", "yes", "on", "y"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "n"})
BOOLEAN_ACCEPTED = "1/0, true/false, yes/no, on/off or y/n (any case)"


class Refused(ValueError):
    """A setting or argument the run cannot go on with; ``str()`` is the one line shown to the operator."""


def shown(value: Any) -> str:
    """``repr`` of a value, cut to ``SHOWN_MAX`` characters (``repr`` keeps it on one line)."""
    text = repr(value)
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 4] + "…" + text[-1]


def refused(kind: str, name: str, value: Any, why: str, accepted: str) -> Refused:
    """The refusal of ``kind`` ("setting", "argument") ``name=value``."""
    return Refused(f"{kind} {name}={shown(value)} is refused ({why}); accepted: {accepted}")


# --- Parsers: value (a string from the command line, or already typed) → typed value, ValueError(why) ---


def boolean(value: Any) -> bool:
    """A switch. ``y``/``n`` are accepted too: refusing ``demo=y`` would only annoy."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("not a yes/no value")


def positive_int(value: Any) -> int:
    number = whole_number(value)
    if number < 1:
        raise ValueError("less than 1")
    return number


def whole_number(value: Any) -> int:
    """An int from an int, an integral float (a default like ``60.0``) or its decimal text."""
    if isinstance(value, bool):
        raise ValueError("not a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not a whole number")
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError("not a whole number") from None


def local_time(value: Any) -> datetime:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` (naive: the spider reads it in ``TIMEZONE``)."""
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError("not a date")


def text(value: Any) -> str:
    """Any non-empty text."""
    found = str(value).strip()
    if not found:
        raise ValueError("empty")
    return found


def comma_list(value: Any) -> str:
    """Comma-separated items, at least one of them non-empty (kept as given: the spider splits it)."""
    found = str(value)
    if not any(item.strip() for item in found.split(",")):
        raise ValueError("no item")
    return found


@dataclass(frozen=True)
class Argument:
    """One ``-a`` argument: its parser and how the refusal describes what is accepted."""

    name: str
    parse: Callable[[Any], Any]
    accepted: str
    aliases: tuple[str, ...] = ()

    def label(self) -> str:
        return self.name + "".join(f" (alias {alias})" for alias in self.aliases)


#: Arguments more than one spider takes.
SITE_REPO = Argument("site_repo", text, "the path of a site repo checkout (same as -s SITE_REPO=PATH)")
DEMO = Argument("demo", boolean, BOOLEAN_ACCEPTED)
#: Re-fetch stored articles; ``force`` is the name backfill had.
REFRESH = Argument("refresh", boolean, BOOLEAN_ACCEPTED, aliases=("force",))
#: What ``urls_file`` takes; the file itself is checked with the settings (``crawler.checks``).
URLS_FILE_ACCEPTED = "a regular file with one URL or saved page per line (at most URL_LIST_MAXSIZE bytes), or - for stdin"


def parse_arguments(spidercls: type, given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` (``-a`` name → value) as typed values under their canonical names.

    ``spidercls.arguments`` lists what the spider takes; ``spidercls.required_arguments``
    groups names of which at least one must be given. Raises ``Refused``.
    """
    specs: tuple[Argument, ...] = getattr(spidercls, "arguments", ())
    by_name = {name: spec for spec in specs for name in (spec.name, *spec.aliases)}
    spider = getattr(spidercls, "name", spidercls.__name__)
    parsed: dict[str, Any] = {}
    given_as: dict[str, str] = {}
    for name, value in given.items():
        spec = by_name.get(name)
        if spec is None:
            takes = ", ".join(spec.label() for spec in specs) or "none"
            raise refused("argument", name, value, f"{spider} takes no such argument", f"-a with one of {takes}")
        if spec.name in given_as:
            raise refused("argument", name, value, f"given twice, also as {given_as[spec.name]}", "one of them")
        try:
            parsed[spec.name] = spec.parse(value)
        except ValueError as exc:
            raise refused("argument", name, value, str(exc), spec.accepted) from None
        given_as[spec.name] = name
    for group in getattr(spidercls, "required_arguments", ()):
        if not any(name in parsed for name in group):
            needed = " or ".join(f"-a {name}=…" for name in group)
            raise Refused(f"{spider} needs {needed}; accepted: " + "; ".join(
                f"{spec.name}: {spec.accepted}" for spec in specs if spec.name in group))
    return parsed
