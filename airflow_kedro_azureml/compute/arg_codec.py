"""Encode command-line values so they survive any shell and any characters.

Azure ML runs a step's ``command`` through a shell. Values that are made only of
safe characters are passed as they are (readable in the studio); anything else
is sent as ``b64:`` followed by URL-safe base64 of its UTF-8 bytes, which has no
character a shell interprets.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

_SAFE = re.compile(r"^[A-Za-z0-9_.,/@%+=:-]+$")
_PREFIX = "b64:"


def encode_value(value: str) -> str:
    """Return ``value`` as one shell-safe word that ``decode_value`` reverses."""
    if _SAFE.match(value) and not value.startswith(_PREFIX):
        return value
    encoded = base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii")
    return _PREFIX + encoded.rstrip("=")


def decode_value(word: str) -> str:
    """Reverse ``encode_value``."""
    if not word.startswith(_PREFIX):
        return word
    payload = word[len(_PREFIX) :]
    payload += "=" * (-len(payload) % 4)
    return base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8")


def json_text(value: Any) -> str:
    """``value`` as canonical JSON text (sorted keys, no spaces, UTF-8 kept as it is)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def encode_json(value: Any) -> str:
    """Serialise ``value`` as canonical JSON, then encode it as one shell-safe word."""
    return encode_value(json_text(value))


def decode_json(word: str) -> Any:
    """Reverse ``encode_json``."""
    return json.loads(decode_value(word))
