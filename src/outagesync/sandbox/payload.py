"""Strict check of a POST /site-outages body against a site's right payload, with a readable verdict.

Schema first (a JSON array of objects with exactly id, name, begin, end, all strings), then the items as a
multiset: order does not matter, duplicates count, strings are compared exactly.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import Counter
from itertools import islice
from typing import Any

import msgspec

from outagesync.sandbox.data import Item

FIELDS = ("id", "name", "begin", "end")
_FIELD_SET = frozenset(FIELDS)
_SHOWN = 3  # items quoted per list in a verdict: enough to see the problem, short enough to read


class PostedItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One item of a payload that has the right schema (the fast check's form; hashable)."""

    id: str
    name: str
    begin: str
    end: str


_posted_decoder = msgspec.json.Decoder(list[PostedItem])
_right_as_posted: dict[int, tuple[weakref.ref[Counter[Item]], Counter[PostedItem]]] = {}
_right_lock = threading.Lock()


def check_payload(
    body: bytes, right: Counter[Item], expected: bytes | None = None
) -> tuple[list[Any] | bytes, str | None]:
    """(the items, None) if `body` is exactly the right payload, else ([], what is wrong).

    Fast paths, so that the sandbox does not dominate the floor it is measured against: a body equal to
    `expected` (the right payload as compact JSON in served order) is right at once, and comes back as
    bytes (parsed only if read back); a right payload in another order or formatting is checked in C
    (msgspec, and a Counter of hashable structs). Any other body takes the plain path below, which
    names the problem.
    """
    if expected is not None and body == expected:
        return body, None
    try:
        posted = _posted_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass  # the plain path names the problem (or accepts what only it can read, e.g. "\ud800")
    else:
        if Counter(posted) == _as_posted(right):
            return posted, None  # structs: msgspec.to_builtins makes them the dicts that were posted
    items, received, problem = read_items(body)
    if problem is not None:
        return [], problem
    problem = compare_items(Counter(received), right)
    return ([], problem) if problem is not None else (items, None)


def read_items(body: bytes) -> tuple[list[Any], list[Item], str | None]:
    """(the parsed items, their (id, name, begin, end), None) if the schema holds, else ([], [], why not)."""
    try:
        items = json.loads(body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        return [], [], f"the body is not valid JSON: {exc}"
    if not isinstance(items, list):
        return [], [], f"the body must be a JSON array of outages, not {_json_type(items)}"
    received: list[Item] = []
    for index, item in enumerate(items):
        if type(item) is not dict or item.keys() != _FIELD_SET:
            return [], [], _schema_problem(index, item)
        key = (item["id"], item["name"], item["begin"], item["end"])
        # Spelled out rather than all(...): this loop runs a million times for the largest payloads.
        if (
            type(key[0]) is not str
            or type(key[1]) is not str
            or type(key[2]) is not str
            or type(key[3]) is not str
        ):
            return [], [], _schema_problem(index, item)
        received.append(key)
    return items, received, None


def _as_posted(right: Counter[Item]) -> Counter[PostedItem]:
    """The right payload as structs, made once per right payload (datasets keep theirs)."""
    with _right_lock:
        cached = _right_as_posted.get(id(right))
        if cached is not None and cached[0]() is right:
            return cached[1]
        converted = Counter({PostedItem(*item): count for item, count in right.items()})
        key = id(right)
        _right_as_posted[key] = (weakref.ref(right, lambda _: _right_as_posted.pop(key, None)), converted)
        return converted


def compare_items(got: Counter[Item], right: Counter[Item]) -> str | None:
    """None if the received multiset is the right one, else what is missing and what is unexpected."""
    if got == right:
        return None
    return _difference(missing=right - got, unexpected=got - right, right=right)


def _schema_problem(index: int, item: Any) -> str:
    where = f"item {index}"
    if not isinstance(item, dict):
        return f"{where}: must be an object with id, name, begin and end, not {_json_type(item)}"
    problems = []
    missing = [name for name in FIELDS if name not in item]
    extra = sorted(set(item) - _FIELD_SET)
    if missing:
        problems.append("missing field(s) " + ", ".join(missing))
    if extra:
        problems.append("unexpected field(s) " + ", ".join(extra))
    problems += [
        f"field {name} must be a string, not {_json_type(item[name])}"
        for name in FIELDS
        if name in item and not isinstance(item[name], str)
    ]
    return f"{where}: " + "; ".join(problems)


def _difference(*, missing: Counter[Item], unexpected: Counter[Item], right: Counter[Item]) -> str:
    n_missing, n_unexpected = missing.total(), unexpected.total()
    parts = [
        f"{n_missing} missing and {n_unexpected} unexpected item(s) (order does not matter, copies count)"
    ]
    parts += _differing_fields(missing, unexpected)
    if n_missing:
        parts.append(f"missing: {_show(missing, n_missing, right=None)}")
    if n_unexpected:
        parts.append(f"unexpected: {_show(unexpected, n_unexpected, right=right)}")
    return "; ".join(parts)


def _differing_fields(missing: Counter[Item], unexpected: Counter[Item]) -> list[str]:
    """For a few unexpected items, the one field in which they differ from a missing item of the same id."""
    missing_by_id: dict[str, list[Item]] = {}
    for item in missing:
        missing_by_id.setdefault(item[0], []).append(item)
    notes = []
    for item in islice(unexpected, _SHOWN):
        for candidate in missing_by_id.get(item[0], []):
            differing = [i for i in range(1, 4) if item[i] != candidate[i]]
            if len(differing) == 1:
                i = differing[0]
                notes.append(
                    f"id {item[0]}: {FIELDS[i]} {json.dumps(item[i], ensure_ascii=False)} "
                    f"differs from the expected {json.dumps(candidate[i], ensure_ascii=False)}"
                )
                break
    return notes


def _show(items: Counter[Item], total: int, *, right: Counter[Item] | None) -> str:
    shown = []
    for item in islice(items.elements(), _SHOWN):
        text = json.dumps(dict(zip(FIELDS, item, strict=True)), ensure_ascii=False)
        if right is not None and item in right:
            text += " (one copy too many)"
        shown.append(text)
    more = f" and {total - len(shown)} more" if total > len(shown) else ""
    return ", ".join(shown) + more


def _json_type(value: Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "a boolean"
    if value is None:
        return "null"
    names = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)
