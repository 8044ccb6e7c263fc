"""JSON parsing that refuses documents nested deeper than any real record.

The standard parser recurses once per level, so a few hundred kilobytes of brackets exhaust the
interpreter's stack and surface as a ``RecursionError`` — a server error — instead of a refusal
the sender can act on. Registry records nest a handful of levels; 64 leaves ample room.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class TooDeepError(ValueError):
    """The document nests arrays or objects more than :data:`MAX_DEPTH` levels deep."""

    def __init__(self, max_depth: int):
        super().__init__(f"JSON nested more than {max_depth} levels deep")
        self.max_depth = max_depth


def depth(value: Any) -> int:
    """How many arrays/objects deep ``value`` nests (a scalar is 0), without recursing."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises :class:`TooDeepError` instead of exhausting the stack.

    >>> loads('{"a": [1, {"b": 2}]}')
    {'a': [1, {'b': 2}]}
    >>> loads("[" * 100 + "]" * 100)
    Traceback (most recent call last):
    ...
    registry.jsonlimits.TooDeepError: JSON nested more than 64 levels deep
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeepError(max_depth) from None
    if depth(value) > max_depth:
        raise TooDeepError(max_depth)
    return value
