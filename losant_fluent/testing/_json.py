"""Strict JSON in and valid JSON out.

Requests are read like a strict JSON parser (Node's ``JSON.parse`` behind Losant's body
parser) would: the ``NaN``/``Infinity``/``-Infinity`` literals Python's ``json`` module
accepts are refused, as are numbers too large for a double, and documents nested deeper
than :data:`MAX_DEPTH`. Answers are written with ``allow_nan=False``, numbers the way
``JSON.stringify`` writes them: integral floats as integers (``2``, not ``2.0``) and a
non-finite number, should one ever slip into an answer, as ``null`` (never ``NaN``).
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from ._errors import validation

# How deeply arrays and objects may nest in a request body or JSON query parameter.
# Real Losant documents (flows, dashboards, queries) stay far below this.
MAX_DEPTH = 100


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def _parse_int(text: str) -> int:
    value = int(text)
    if abs(value) > sys.float_info.max:  # a double would be Infinity
        raise ValueError(f"the number {text[:40]}... is too large")
    return value


def depth(document: Any) -> int:
    """How deeply arrays and objects nest in ``document`` (a scalar is 0), iteratively."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level) for child in children)
    return deepest


def loads(raw: str | bytes, what: str = "The request body") -> Any:
    """Parse strict JSON; 400 ``Validation`` naming ``what`` when it is not."""
    try:
        document = json.loads(
            raw,
            parse_constant=_refuse_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except RecursionError:
        raise validation(f"{what} is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, NaN, overlong numbers
        raise validation(f"{what} is not valid JSON: {exc}") from None
    if depth(document) > MAX_DEPTH:
        raise validation(f"{what} is nested more than {MAX_DEPTH} levels deep")
    return document


def _js(node: Any) -> Any:
    """``node`` with numbers as JavaScript writes them: integral floats as integers
    (``2``, never ``2.0``) and non-finite ones as ``null``."""
    if isinstance(node, float):
        if not math.isfinite(node):
            return None
        return int(node) if node.is_integer() else node
    if isinstance(node, dict):
        return {key: _js(value) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_js(value) for value in node]
    return node


def dumps(payload: Any) -> str:
    """Compact JSON text as a Node server would write it; always valid JSON
    (``allow_nan=False``; non-finite numbers become ``null`` like ``JSON.stringify``)."""
    return json.dumps(_js(payload), separators=(",", ":"), allow_nan=False)
