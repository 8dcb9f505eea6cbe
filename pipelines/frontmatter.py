"""Front matter in the site's exact YAML dialect.

Every string is a JSON string (a valid YAML double-quoted scalar, so ``: ``,
``"``, ``\\``, ``#`` and newlines round-trip), lists are ``  - "…"`` items,
booleans are bare: byte for byte what the site's existing files use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

# Characters YAML forbids unescaped in a double-quoted scalar (or reads as line breaks) but JSON leaves raw.
_NON_PRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


#: libyaml's parser when PyYAML has it (a tenth of the pure-Python one's time; the same safe constructor).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FrontMatterError(ValueError):
    """The front matter written would not read back as the metadata it was made from."""


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = json.dumps(str(value), ensure_ascii=False)
    return _NON_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class HugoYAMLHandler(YAMLHandler):
    """python-frontmatter handler that writes the site's YAML dialect (and reads any YAML)."""

    def export(self, metadata: Mapping[str, Any], **kwargs: object) -> str:
        lines: list[str] = []
        for key, value in metadata.items():
            if isinstance(value, list | tuple):
                if not value:
                    lines.append(f"{key}: []")
                    continue
                lines.append(f"{key}:")
                lines.extend(f"  - {scalar(item)}" for item in value)
            else:
                lines.append(f"{key}: {scalar(value)}")
        return "\n".join(lines)


def _plain(value: Any) -> Any:
    return [_plain(item) for item in value] if isinstance(value, list | tuple) else value


def dump_document(metadata: Mapping[str, Any], body: str) -> str:
    """The whole file: front matter, a blank line, the body, one final newline.

    The front matter is read back with ``yaml.safe_load`` before it is returned: a file
    whose front matter Hugo could not read would fail the whole site's build.
    """
    yaml_text = HugoYAMLHandler().export(metadata)
    try:
        read = yaml.load(yaml_text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as error:
        raise FrontMatterError(f"front matter is not valid YAML: {error}") from None
    if read != {key: _plain(value) for key, value in metadata.items()}:
        raise FrontMatterError("front matter does not read back as written")
    post = frontmatter.Post(body, **metadata)
    return frontmatter.dumps(post, handler=HugoYAMLHandler()) + "\n"
