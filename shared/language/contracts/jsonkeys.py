"""Refusing a JSON document that gives a key twice.

JSON parsers (Python's, pydantic's) keep the last of two equal keys without a word, so `{"category": "appeal",
..., "category": "report"}` reads as a report to this platform and maybe as an appeal to the proxy, log or
reviewer that saw the first one (issue 14). Every entrypoint that parses JSON from outside checks with
`check_unique_keys` first: the gateway for every JSON body (services/gateway/jsonbody.py), intake for its
internal HTTP API.
"""

from __future__ import annotations

import json
from typing import Any

Path = tuple[str | int, ...]


class DuplicateKey(ValueError):
    """A key given twice; `path` leads to it from the top of the document (object keys and list indexes)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"duplicate key: {'.'.join(map(str, path))}")
        self.path = path

    def error(self, *prefix: str | int) -> dict[str, Any]:
        """As a pydantic-style error (shared/language/contracts/errors.py explains it), located under `prefix`."""
        return {"type": "duplicate_key", "loc": (*prefix, *self.path), "msg": str(self),
                "input": self.path[-1] if self.path else None}


class _Repeated(Exception):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _Repeated
    return document


class _Pairs(list):  # type: ignore[type-arg]
    """An object as parsed, every pair kept: to find where the repeated key is (only once one was found)."""


def check_unique_keys(body: bytes | str) -> None:
    """Raises DuplicateKey if an object in `body` gives a key twice. A body that is not JSON at all passes: the
    parser that reads it next says what is wrong with it. One parse with a C-level check per object (a few
    microseconds for a petition); the key's path is worked out only for a body that is refused."""
    try:
        json.loads(body, object_pairs_hook=_unique)
        return
    except _Repeated:
        pass
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep: for the parser to report
        return
    raise DuplicateKey(_first_repeated(json.loads(body, object_pairs_hook=_Pairs)))


def _first_repeated(tree: Any) -> Path:
    stack: list[tuple[Path, Any]] = [((), tree)]  # no recursion: the document may be nested deep
    while stack:
        path, node = stack.pop()
        if isinstance(node, _Pairs):
            seen: set[str] = set()
            for key, _value in node:
                if key in seen:
                    return (*path, key)
                seen.add(key)
            children = [((*path, key), value) for key, value in node]
        elif isinstance(node, list):
            children = [((*path, index), value) for index, value in enumerate(node)]
        else:
            continue
        stack.extend(reversed(children))
    return ()
