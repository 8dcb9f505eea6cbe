"""Every setting and argument a run depends on, checked before the first request.

A bad value found only after fetching is a per-article failure for every article
(and the listing mark moves on), or files written to the wrong place; found here
it is one line and exit status 1 with nothing fetched or written:

    scrapy crawl: error: setting TIMEZONE='Mars/Base' is refused (unknown time zone); accepted: …

``SETTINGS`` is the table: one ``Setting`` per name, with a parser (value →
checked value, or ``ValueError`` saying why) and the text of what is accepted.
A setting absent from the run's settings is not checked, so specs of optional
settings cost nothing. A structure or switch is written back parsed: ``-s X='[…]'``
arrives as a string and the rest of the code gets the structure. ``RELATIONS`` holds the
checks that need several settings at once. Nothing here creates a file or folder.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import string
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scrapy.settings import BaseSettings, Settings

from crawler import distributed, inputs
from crawler.arguments import (
    BOOLEAN_ACCEPTED, URLS_FILE_ACCEPTED, Refused, boolean, parse_arguments, refused, whole_number,
)
from pipelines.paths import UnsafePath, check_part

#: Placeholders ``ARTICLE_PATH`` may use (filled per article by ``pipelines.adapters.output_path``).
ARTICLE_PATH_FIELDS = ("source", "id")


@dataclass(frozen=True)
class Setting:
    """How one setting is checked: ``parse`` returns the value to use or raises ``ValueError(why)``."""

    name: str
    parse: Callable[[Any], Any]
    accepted: str


# --- Parsers ------------------------------------------------------------------------------------


def at_least(minimum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        number = whole_number(value)
        if number < minimum:
            raise ValueError(f"less than {minimum}")
        return number

    return parse


def seconds(value: Any, *, positive: bool = False) -> float:
    """A duration or other decimal ≥ 0 (> 0 when ``positive``)."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    try:
        number = float(str(value).strip()) if not isinstance(value, (int, float)) else float(value)
    except ValueError:
        raise ValueError("not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    if number < 0 or (positive and number == 0):
        raise ValueError("must be more than 0" if positive else "negative")
    return number


def positive_seconds(value: Any) -> float:
    return seconds(value, positive=True)


def structure(value: Any) -> Any:
    """A JSON text as its structure (``-s`` passes strings); a structure as it is."""
    if isinstance(value, BaseSettings):
        return value.copy_to_dict()
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None


def listed(item: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    """A list of ``item``s: a JSON list, comma-separated text (Scrapy's ``getlist`` way) or a list."""

    def parse(value: Any) -> list[Any]:
        if isinstance(value, str):
            found = structure(value) if value.strip().startswith("[") else [v for v in value.split(",") if v.strip()]
        else:
            found = value
        if not isinstance(found, (list, tuple)):
            raise ValueError("not a list")
        return [item(v) for v in found]

    return parse


def regex(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a regex string")
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regex {value!r}: {exc}") from None
    return value


def junk_rules(value: Any) -> dict[str, dict[str, list[str]]]:
    """``WECHAT_JUNK_RULES``: account → {blocks|trailer|images: [regex…]}."""
    rules = structure(value)
    if not isinstance(rules, Mapping):
        raise ValueError("not a JSON object")
    checked: dict[str, dict[str, list[str]]] = {}
    for account, kinds in rules.items():
        if not isinstance(kinds, Mapping):
            raise ValueError(f"rules of {account!r} are not an object")
        unknown = sorted(set(kinds) - {"blocks", "trailer", "images"})
        if unknown:
            raise ValueError(f"rules of {account!r} have unknown key {unknown[0]!r}")
        checked[str(account)] = {}
        for kind, patterns in kinds.items():
            if not isinstance(patterns, list):
                raise ValueError(f"{account!r} {kind} is not a list")
            checked[str(account)][kind] = [regex(p) for p in patterns]
    return checked


def image_rewrites(value: Any) -> list[list[str]]:
    """``IMAGE_URL_REWRITES``: ordered ``[regex, replacement]`` pairs; the replacement's group references must exist."""
    rules = structure(value)
    if not isinstance(rules, (list, tuple)):
        raise ValueError("not a JSON list")
    checked = []
    for rule in rules:
        if not isinstance(rule, (list, tuple)) or len(rule) != 2 or not all(isinstance(r, str) for r in rule):
            raise ValueError(f"rule {rule!r} is not a [regex, replacement] pair")
        pattern = re.compile(regex(rule[0]))
        try:
            pattern.sub(rule[1], "")  # compiles the replacement: bad group references raise here
        except (re.error, IndexError) as exc:
            raise ValueError(f"bad replacement {rule[1]!r}: {exc}") from None
        checked.append([rule[0], rule[1]])
    return checked


def one_of(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip()
        if text not in choices:
            raise ValueError(f"not one of {', '.join(choices)}")
        return text

    return parse


def sha256_hex(value: Any) -> str:
    text = str(value).strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise ValueError(f"{value!r} is not a sha256 in hex")
    return text


def referers(value: Any) -> dict[str, str]:
    """``IMAGES_REFERERS``: host → Referer (an http(s) URL, or "" for none)."""
    found = string_map(value)
    return {host(name): http_url(referer) if referer else "" for name, referer in found.items()}


def string_map(value: Any) -> dict[str, str]:
    """A JSON object of strings (``DISCLAIMERS``)."""
    found = structure(value)
    if not isinstance(found, Mapping) or not all(isinstance(v, str) for v in found.values()):
        raise ValueError("not a JSON object of strings")
    return {str(k): v for k, v in found.items()}


def source_names(value: Any) -> dict[str, str]:
    """``WEB_SOURCE_NAMES``: domain → a name fit for a folder, category and tag (one path part)."""
    found = string_map(value)
    for domain, name in found.items():
        try:
            check_part("source name", name)
        except UnsafePath as exc:
            raise ValueError(f"{domain!r}: {exc}") from None
    return found


def front_matter(value: Any) -> dict[str, Any]:
    """``FRONT_MATTER``: key → string, boolean, number or list of strings."""
    found = structure(value)
    if not isinstance(found, Mapping) or not found:
        raise ValueError("not a non-empty JSON object")
    for key, item in found.items():
        plain = isinstance(item, (str, bool, int, float))
        if not plain and not (isinstance(item, list) and all(isinstance(v, str) for v in item)):
            raise ValueError(f"value of {key!r} is not a string, boolean, number or list of strings")
    return dict(found)


def time_zone(value: Any) -> str:
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone") from None
    return name


def http_url(value: Any) -> str:
    url = str(value).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    return url


def redis_url(value: Any) -> str:
    """Where the crawl's Redis is (``crawler.distributed``), or "" for a run in one process."""
    url = str(value).strip()
    parts = urlsplit(url)
    if url and (parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path)):
        raise ValueError("not a redis:// URL")
    return url


def label(value: Any) -> str:
    """A name used as a folder, category and tag."""
    name = str(value).strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ValueError("not a plain name")
    return name


def author(value: Any) -> str:
    found = str(value).strip()
    if not re.fullmatch(r"[^<>\n]+ <[^<>\s]*>", found):
        raise ValueError("not 'Name <email>'")
    return found


def host(value: Any) -> str:
    name = str(value).strip().lower()
    if not re.fullmatch(r"(\*\.|\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d+)?", name):
        raise ValueError(f"{value!r} is not a host name")
    return name


def network(value: Any) -> str:
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=False))
    except ValueError:
        raise ValueError(f"{value!r} is not a network in CIDR notation") from None


def http_status(value: Any) -> int:
    code = whole_number(value)
    if not 100 <= code <= 599:
        raise ValueError(f"{code} is not an HTTP status")
    return code


def creatable_folder(path: Path) -> None:
    """``path`` is a folder, or could be made one: its nearest existing ancestor is a writable folder."""
    for ancestor in (path, *path.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise ValueError(f"{ancestor} is not a folder")
            if not os.access(ancestor, os.W_OK | os.X_OK):
                raise ValueError(f"{ancestor} is not writable")
            return


def folder(value: Any) -> str:
    """A folder that exists or can be created; empty text is refused (it would mean the current folder)."""
    text = str(value).strip()
    if not text:
        raise ValueError("empty")
    creatable_folder(Path(text).absolute())
    return text


def optional_folder(value: Any) -> str:
    """``folder``, or "" for the default."""
    return folder(value) if str(value).strip() else ""


def optional_file(value: Any) -> str:
    """A file that exists or can be created in a creatable folder, or "" for the default."""
    text = str(value).strip()
    if not text:
        return ""
    path = Path(text).absolute()
    if path.exists() and not path.is_file():
        raise ValueError(f"{path} is not a file")
    creatable_folder(path.parent)
    return text


def article_path(value: Any) -> str:
    """``ARTICLE_PATH``: known placeholders, ``{id}`` among them, giving a relative ``.md`` path inside the root."""
    template = str(value).strip()
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)
                  if name is not None]
    except ValueError as exc:
        raise ValueError(f"malformed placeholder: {exc}") from None
    for name, spec, conversion in fields:
        if name not in ARTICLE_PATH_FIELDS:
            raise ValueError(f"unknown placeholder {{{name}}}")
        if spec or conversion:
            raise ValueError(f"placeholder {{{name}}} with a format")
    if "id" not in {name for name, _, _ in fields}:
        raise ValueError("no {id}: every article would get the same file")
    sample = PurePosixPath(template.format(source="wechat", id="s_0"))
    if sample.is_absolute() or template.startswith("~") or "\\" in template:
        raise ValueError("not a relative path")
    if ".." in sample.parts:
        raise ValueError("leaves the output root")
    if sample.suffix != ".md":
        raise ValueError("not a .md file")
    return template


def site_repo(value: Any) -> str:
    """"" (no site repo), or the top folder of a git work tree."""
    text = str(value).strip()
    if not text:
        return ""
    path = Path(text).expanduser().absolute()
    if not path.is_dir():
        raise ValueError("not a folder")
    try:
        git = subprocess.run(["git", "-C", str(path), "rev-parse", "--is-inside-work-tree", "--show-toplevel"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ValueError(f"git cannot be run: {exc}") from None
    lines = git.stdout.split()
    if git.returncode or not lines or lines[0] != "true":
        raise ValueError("not a git checkout")
    top = Path(lines[-1])
    if top.resolve() != path.resolve():
        raise ValueError(f"inside the checkout {top}, not its top folder")
    return text


#: The table. Add a spec here for every new setting the run depends on.
SETTINGS: tuple[Setting, ...] = (
    # Where things go
    Setting("OUTPUT_DIR", folder, "a folder that exists or can be created (not empty)"),
    Setting("STATE_PATH", optional_file, 'a file path in a folder that can be created, or "" (OUTPUT_DIR/.state/state.sqlite3)'),
    Setting("REPORTS_DIR", optional_folder, 'a folder that exists or can be created, or "" (OUTPUT_DIR/.state/reports)'),
    Setting("ARCHIVE_DIR", optional_folder, 'a folder that exists or can be created, or "" (OUTPUT_DIR/.state/archive)'),
    Setting("JOBDIR", optional_folder, "a folder that exists or can be created"),
    Setting("ARTICLE_PATH", article_path,
            "a relative path ending in .md with {id} and optionally {source}, such as content/posts/{source}/{id}.md"),
    Setting("SITE_REPO", site_repo, 'the top folder of a git checkout, or "" for none'),
    # What the files say
    Setting("TIMEZONE", time_zone, "an IANA zone name such as Asia/Shanghai"),
    Setting("SUMMARY_LENGTH", at_least(1), "a whole number ≥ 1"),
    Setting("TEXT_SHARE_TITLE_LENGTH", at_least(1), "a whole number ≥ 1"),
    Setting("FRONT_MATTER", front_matter, "a JSON object of keys to strings, booleans, numbers or lists of strings"),
    Setting("DISCLAIMERS", string_map, 'a JSON object of source name to text, such as {"wechat": ""}'),
    Setting("IMAGE_URL_REWRITES", image_rewrites, 'a JSON list of [regex, replacement] pairs, such as [["^http://a/", "https://b/"]]'),
    Setting("IMAGES_MODE", one_of("rewrite", "localize"), "rewrite (remote URLs) or localize (page bundles with copies)"),
    Setting("IMAGES_MAXSIZE", at_least(0), "a whole number of bytes ≥ 0 (0: DOWNLOAD_MAXSIZE)"),
    Setting("IMAGES_MAX_PIXELS", at_least(1), "a whole number of pixels ≥ 1"),
    Setting("IMAGES_THUMBNAIL_WIDTH", at_least(0), "a whole number of pixels ≥ 0 (0: the cover as served)"),
    Setting("IMAGES_PLACEHOLDER_HASHES", listed(sha256_hex), "sha256 hex digests, comma-separated or a JSON list"),
    Setting("IMAGES_REFERERS", referers, 'a JSON object of host to Referer URL (or ""), such as {"qpic.cn": "https://mp.weixin.qq.com/"}'),
    Setting("HUGO_DISABLE_PATH_TO_LOWER", boolean, BOOLEAN_ACCEPTED),
    Setting("WECHAT_JUNK_RULES", junk_rules,
            'a JSON object of account to {"blocks"|"trailer"|"images": [regex, …]}, such as {"*": {"blocks": ["关注我们"]}}'),
    Setting("WECHAT_SOURCE_NAME", label, "a plain name of letters, digits, _ . - such as wechat"),
    Setting("WEB_SOURCE_NAMES", source_names, 'a JSON object of registrable domain to source name, such as {"xinhuanet.com": "新华网"}'),
    Setting("WEB_MIN_TEXT", at_least(1), "a whole number of characters ≥ 1"),
    # Sources
    Setting("WALLSTREETCN_API_BASE", http_url, "an http(s) URL"),
    Setting("WECHAT_BASE", http_url, "an http(s) URL"),
    Setting("INFOQ_BASE", http_url, "an http(s) URL"),
    Setting("PINGWEST_BASE", http_url, "an http(s) URL"),
    Setting("LISTING_OVERLAP", at_least(0), "a whole number of seconds ≥ 0"),
    # Politeness and retries
    Setting("CONCURRENT_REQUESTS", at_least(1), "a whole number ≥ 1"),
    Setting("CONCURRENT_REQUESTS_PER_DOMAIN", at_least(1), "a whole number ≥ 1"),
    Setting("DOWNLOAD_DELAY", seconds, "a number of seconds ≥ 0"),
    Setting("DOWNLOAD_DELAY_JITTER", seconds, "a fraction ≥ 0 of DOWNLOAD_DELAY, such as 0.5"),
    Setting("AUTOTHROTTLE_ENABLED", boolean, BOOLEAN_ACCEPTED),
    Setting("AUTOTHROTTLE_START_DELAY", seconds, "a number of seconds ≥ 0"),
    Setting("AUTOTHROTTLE_MAX_DELAY", seconds, "a number of seconds ≥ 0"),
    Setting("AUTOTHROTTLE_TARGET_CONCURRENCY", positive_seconds, "a number > 0"),
    Setting("DOWNLOAD_TIMEOUT", positive_seconds, "a number of seconds > 0"),
    Setting("DOWNLOAD_MAXSIZE", at_least(0), "a whole number of bytes ≥ 0 (0: no limit)"),
    Setting("RETRY_ENABLED", boolean, BOOLEAN_ACCEPTED),
    Setting("RETRY_TIMES", at_least(0), "a whole number ≥ 0"),
    Setting("RETRY_HTTP_CODES", listed(http_status), "HTTP statuses, comma-separated or a JSON list, such as 429,503"),
    Setting("RETRY_BACKOFF_BASE", seconds, "a number of seconds ≥ 0"),
    Setting("RETRY_BACKOFF_MAX", seconds, "a number of seconds ≥ 0"),
    Setting("URLLENGTH_LIMIT", at_least(0), "a whole number of characters ≥ 0 (0: no limit)"),
    Setting("LOGSTATS_INTERVAL", seconds, "a number of seconds ≥ 0"),
    # Site repo hand-off
    Setting("SITE_COMMIT_AUTHOR", author, "Name <email>"),
    Setting("SITE_PUSH_ATTEMPTS", at_least(1), "a whole number ≥ 1"),
    Setting("SITE_PUSH_BACKOFF", seconds, "a number of seconds ≥ 0"),
    Setting("SITE_STALE_LOCK_SECONDS", seconds, "a number of seconds ≥ 0"),
    # Settings other parts of the project add (checked once they exist)
    Setting("SHARE_ALLOWED_HOSTS", listed(host), "host names, comma-separated or a JSON list, such as mp.weixin.qq.com"),
    Setting("ALLOWED_PRIVATE_NETWORKS", listed(network),
            'networks in CIDR notation, comma-separated or a JSON list, such as ["127.0.0.0/8"]'),
    Setting("SAVED_PAGE_MAXSIZE", at_least(0), "a whole number of bytes ≥ 0"),
    Setting("HOST_FAILURE_LIMIT", at_least(0), "a whole number ≥ 0 (0: never give up on a host)"),
    Setting("URL_LIST_MAXSIZE", at_least(0), "a whole number of bytes ≥ 0 (0: no limit)"),
    Setting("URL_LIST_MAX_LINE", at_least(1), "a whole number of bytes ≥ 1"),
    Setting("PROGRESS_INTERVAL", seconds, "a number of seconds ≥ 0"),
    Setting("REPORTS_KEEP", at_least(0), "a whole number ≥ 0"),
    Setting("REPORTS_MAX_AGE_DAYS", seconds, "a number of days ≥ 0"),
    Setting("RENDER_WORKERS", at_least(0), "a whole number of processes ≥ 0 (0: render in the crawl's process)"),
    Setting("WRITE_THREADS", at_least(0), "a whole number of threads ≥ 0 (0: write in the crawl's process)"),
    Setting("RUN_LOCK", optional_file, 'a lock file path in a folder that can be created, or "" for no lock'),
    # Distributed runs (crawler.distributed)
    Setting("REDIS_URL", redis_url, 'redis://HOST:PORT/DB, or "" for a run in one process'),
    Setting("REDIS_KEY_PREFIX", label, "a plain name of letters, digits, _ . - such as news-ingest"),
    Setting("MAX_IDLE_TIME_BEFORE_CLOSE", seconds, "a number of seconds ≥ 0"),
    Setting("REDIS_WORKER_TIMEOUT", positive_seconds, "a number of seconds > 0"),
)


def site_content_folder(settings: Settings) -> None:
    """With a site repo, the article folder (``ARTICLE_PATH`` up to its first placeholder) must be creatable in it."""
    repo = settings.get("SITE_REPO")
    if not repo:
        return
    static = settings.get("ARTICLE_PATH").split("{")[0].rsplit("/", 1)[0]
    try:
        creatable_folder(Path(repo).expanduser().absolute() / static)
    except ValueError as exc:
        raise refused("setting", "SITE_REPO", repo, f"article folder {static!r}: {exc}",
                      "a checkout where ARTICLE_PATH's folder can be created") from None


def bundles_in_content(settings: Settings) -> None:
    """Localized images are named by the site path of their bundle: ``ARTICLE_PATH`` must then lie under ``content/``."""
    if settings.get("IMAGES_MODE") != "localize":
        return
    template = settings.get("ARTICLE_PATH")
    if not template.startswith("content/"):
        raise refused("setting", "ARTICLE_PATH", template, "with IMAGES_MODE=localize it must lie under content/",
                      "a path such as content/posts/{source}/{id}.md")


def localize_in_one_process(settings: Settings) -> None:
    """Distributed workers write no file, and the writer downloads nothing: localized images need one process."""
    if settings.get("IMAGES_MODE") == "localize" and settings.get("REDIS_URL"):
        raise refused("setting", "IMAGES_MODE", "localize", "workers on Redis write no image files",
                      "rewrite with REDIS_URL, or localize in a run without REDIS_URL")


#: Checks across settings, run after every setting passed its own.
RELATIONS: tuple[Callable[[Settings], None], ...] = (site_content_folder, bundles_in_content, localize_in_one_process)


def handed_on(value: Any, parsed: Any) -> bool:
    """Whether the code must get ``parsed`` instead of ``value``: text that is a structure, or a switch
    word Scrapy's ``getbool`` does not know (``yes``). Numbers and paths are read as given, so the
    run report shows them as the operator wrote them; a default stays a default."""
    return isinstance(value, str) and isinstance(parsed, (bool, list, dict))


def check_settings(settings: Settings) -> None:
    """Check every setting of the table present in ``settings``, writing the parsed values back; raises ``Refused``."""
    for spec in SETTINGS:
        value = settings.get(spec.name)
        if value is None:
            continue
        try:
            parsed = spec.parse(value)
        except ValueError as exc:
            raise refused("setting", spec.name, value, str(exc), spec.accepted) from None
        if handed_on(value, parsed):
            settings.set(spec.name, parsed, priority=settings.getpriority(spec.name) or 0)
    for relation in RELATIONS:
        relation(settings)


def check_run(settings: Settings, spidercls: type, spider_kwargs: Mapping[str, Any]) -> None:
    """Everything a run of ``spidercls`` with ``-a`` ``spider_kwargs`` depends on; raises ``Refused``.

    The spider's arguments come first (``-a site_repo`` is ``SITE_REPO``), then the settings.
    """
    given = distributed.worker_arguments(settings, spidercls, dict(spider_kwargs))
    values = parse_arguments(spidercls, given) if hasattr(spidercls, "arguments") else {}
    if values.get("site_repo"):
        settings.set("SITE_REPO", values["site_repo"], priority="cmdline")
    check_settings(settings)
    if values.get("urls_file") not in (None, "", distributed.QUEUED):  # a device, pipe or folder would never end; too large is refused whole
        try:
            inputs.check_url_list(values["urls_file"], settings.getint("URL_LIST_MAXSIZE"))
        except inputs.ListRefused as exc:
            raise refused("argument", "urls_file", values["urls_file"], str(exc), URLS_FILE_ACCEPTED) from None
