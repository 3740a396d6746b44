"""Reading untrusted JSON: one depth limit for every body and WebSocket frame.

Python's parser recurses once per nesting level, so ``[`` × 20,000 raises ``RecursionError``
(not a ``ValueError``) deep inside whoever called it, and a few hundred levels that do parse
still cost every later walk over the value. No message this service accepts nests more than a
handful of levels, so anything deeper than :data:`MAX_JSON_DEPTH` is refused *before* parsing,
by a scan that skips strings and counts brackets.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Deepest nesting of arrays and objects accepted; the deepest real message (a Kakao skill
#: request) nests six levels.
MAX_JSON_DEPTH = 32

# A string literal (skipped: brackets inside it do not nest) or one bracket. An unterminated
# string runs to the end of the input rather than failing, so the scan never backtracks and
# stays linear whatever the input.
_PATTERN = r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)|[\[\]{}]'
_TOKENS = re.compile(_PATTERN.encode(), re.DOTALL)
_TOKENS_STR = re.compile(_PATTERN, re.DOTALL)
_OPEN = frozenset(b"[{") | frozenset("[{")


class JSONTooDeep(ValueError):
    """The document nests deeper than the limit (a ``ValueError``, like any malformed JSON)."""


def too_deep(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``data`` opens more than ``max_depth`` arrays or objects inside each other.

    Malformed input is not judged here (the parser refuses it); an unterminated string simply
    ends the scan.
    """
    tokens = _TOKENS.finditer(data) if isinstance(data, bytes) else _TOKENS_STR.finditer(data)
    depth = 0
    for match in tokens:
        first = match.group()[0]
        if first in _OPEN:
            depth += 1
            if depth > max_depth:
                return True
        elif first not in (34, '"'):  # a closing bracket (a string starts with a quote)
            depth -= 1
    return False


def loads(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for untrusted input: :class:`JSONTooDeep` past ``max_depth``, and
    ``ValueError`` (or ``UnicodeDecodeError``, a subclass) for anything else malformed."""
    if too_deep(data, max_depth):
        raise JSONTooDeep(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(data)
    except RecursionError as exc:  # unreachable after the scan; a parse error all the same
        raise JSONTooDeep("JSON nested too deeply") from exc
