"""WeChat article URLs and the identity they share.

One article has many URLs: the short ``/s/<token>`` form, and the long
``/s?__biz=…&mid=…&idx=…&sn=…`` form with any amount of tracking noise
(``chksm``, ``mpshare``, ``scene``, ``srcid``, ``sharer_*`` …). The identity of a
long URL is ``__biz``+``mid``+``idx``(+``sn``); a short URL is known only by its token.
An identity names the article's file, so only the two documented shapes pass:
``s_<token>`` (8–64 URL-safe characters) and ``<account number>_<mid>_<idx>`` (ASCII digits).
"""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlencode, urlsplit

WECHAT_HOST = "mp.weixin.qq.com"
_SHORT_PATH = re.compile(r"^/s/([A-Za-z0-9_-]{8,})/?$")
#: The documented identity shapes (fullmatch): short token, and account number, mid, idx.
IDENTITY_RE = re.compile(r"s_[A-Za-z0-9_-]{8,64}|[0-9]{1,20}_[0-9]{1,20}_[0-9]{1,4}")


def is_wechat_url(url: str) -> bool:
    return urlsplit(url).hostname == WECHAT_HOST


def _biz_number(biz: str) -> str:
    """``__biz`` is the account number in base64; decoded it makes a readable, path-safe id
    ("" when it does not decode to digits: the URL then names no identity)."""
    try:
        decoded = base64.b64decode(biz + "=" * (-len(biz) % 4), validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError; so is a non-ASCII __biz
        decoded = ""
    return decoded if decoded.isdigit() else ""


def is_identity(value: object) -> bool:
    """Whether ``value`` has one of the documented identity shapes (``IDENTITY_RE``)."""
    return isinstance(value, str) and IDENTITY_RE.fullmatch(value) is not None


def article_identity(url: str) -> str | None:
    """A stable, path-safe id for the article a WeChat URL points to, or None.

    Long form: ``<account number>_<mid>_<idx>``; short form: ``s_<token>``. A URL whose
    parts do not make one of these shapes (an undecodable ``__biz``, non-ASCII digits, an
    over-long token) names no identity.
    """
    identity = _raw_identity(url)
    return identity if is_identity(identity) else None


def _raw_identity(url: str) -> str | None:
    parts = urlsplit(url.replace("&amp;", "&"))
    if parts.hostname != WECHAT_HOST:
        return None
    short = _SHORT_PATH.match(parts.path)
    if short:
        return f"s_{short.group(1)}"
    if parts.path.rstrip("/") not in ("/s", "/mp/appmsg/show"):
        return None
    query = parse_qs(parts.query)
    biz, mid, idx = (query.get(key, [""])[0] for key in ("__biz", "mid", "idx"))
    if not (biz and mid.isdigit() and idx.isdigit()):
        return None
    return f"{_biz_number(biz)}_{mid}_{idx}"


def canonical_url(url: str) -> str:
    """The URL reduced to its identity: short form as is, long form with only ``__biz, mid, idx, sn``."""
    parts = urlsplit(url.replace("&amp;", "&"))
    if _SHORT_PATH.match(parts.path):
        return f"https://{WECHAT_HOST}{parts.path.rstrip('/')}"
    query = parse_qs(parts.query)
    kept = [(key, query[key][0]) for key in ("__biz", "mid", "idx", "sn") if query.get(key)]
    return f"https://{WECHAT_HOST}/s?{urlencode(kept, safe='=')}"
