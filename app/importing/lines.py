"""Where each record of a YAML or JSON text stands, so that a problem names its line.

A record comes with a `LineOf`: given a field's path (`("positions", 0, "start_on")`), the
1-based line of that field, or of the record where the path cannot be followed. YAML keeps
every node's line; JSON is read an element at a time (`raw_decode`), and a field is found
by its key inside its record's span.
"""

import functools
import json
import re
from collections.abc import Callable, Generator, Iterator
from typing import IO, Any

import yaml

LineOf = Callable[[tuple[Any, ...]], int]
Located = tuple[Any, LineOf | int]  # a record, and its fields' lines or its one line


class NotAList(ValueError):
    """The text is not a list of records."""


def yaml_records(text: IO[str] | str, loader_class: type[yaml.SafeLoader]) -> Iterator[Located]:
    """The records of a YAML list, each constructed on its own from its node."""
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        if not isinstance(root, yaml.SequenceNode):
            raise NotAList("expected a list of records")
        for node in root.value:
            yield loader.construct_document(node), functools.partial(_node_line, node)
    finally:
        loader.dispose()


def _node_line(node: yaml.Node, path: tuple[Any, ...]) -> int:
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = [value for key, value in node.value if key.value == part]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            found = node.value[part : part + 1]
        else:
            found = []
        if not found:
            break
        node = found[0]
    return int(node.start_mark.line) + 1


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"\s*")


def json_array_records(text: str) -> Iterator[Located]:
    """The records of a JSON text that is a list of them."""
    end = yield from _elements(text, 0)
    _at_end(text, end)


def json_bundle_records(text: str) -> Iterator[tuple[str, list[Located] | None]]:
    """The members of a JSON object of lists ({"statements": [...], ...}): each name with
    its records, or None for a member that is not a list."""
    at = _skip(text, 0)
    if text[at : at + 1] != "{":
        raise NotAList('expected an object of lists: {"statements": [...], ...}')
    at = _skip(text, at + 1)
    if text[at : at + 1] == "}":
        return _at_end(text, at + 1)
    while True:
        name, at = _DECODER.raw_decode(text, at)
        if not isinstance(name, str):
            raise json.JSONDecodeError("expected a name", text, at)
        at = _expect(text, _skip(text, at), ":")
        if text[at : at + 1] == "[":
            elements = _elements(text, at)
            records: list[Located] = []
            while True:
                try:
                    records.append(next(elements))
                except StopIteration as stop:
                    at = int(stop.value)
                    break
            yield name, records
        else:
            at = _DECODER.raw_decode(text, at)[1]
            yield name, None
        at = _skip(text, at)
        if text[at : at + 1] == "}":
            return _at_end(text, at + 1)
        at = _expect(text, at, ",")


def _elements(text: str, at: int) -> Generator[Located, None, int]:
    """The elements of the list at `at`; returns where the list ends."""
    at = _expect(text, _skip(text, at), "[")
    if text[at : at + 1] == "]":
        return at + 1
    while True:
        record, end = _DECODER.raw_decode(text, at)
        yield record, functools.partial(_span_line, text, at, end)
        at = _skip(text, end)
        if text[at : at + 1] == "]":
            return at + 1
        at = _expect(text, at, ",")


def _expect(text: str, at: int, char: str) -> int:
    if text[at : at + 1] != char:
        raise json.JSONDecodeError(f"expected {char!r}", text, at)
    return _skip(text, at + 1)


def _at_end(text: str, at: int) -> None:
    if _skip(text, at) != len(text):
        raise json.JSONDecodeError("extra data", text, at)


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    return match.end() if match else at


def _span_line(text: str, start: int, end: int, path: tuple[Any, ...]) -> int:
    at = start
    for part in path:
        if not isinstance(part, str):
            continue
        key = re.compile(re.escape(json.dumps(part, ensure_ascii=False)) + r"\s*:")
        found = key.search(text, at, end)
        if found is None:
            break
        at = found.start()
    return text.count("\n", 0, at) + 1
