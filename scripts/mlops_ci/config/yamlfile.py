"""One way to read a YAML config: the document and the line of every value, one error wording."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from mlops_ci.core.errors import MlopsCiError

KeyPath = tuple[Any, ...]


def read(path: Path) -> str:
    """The text of a config file; unreadable or not UTF-8 is an MlopsCiError."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise MlopsCiError(f"cannot read the config: {reason}", where=str(path)) from error


def _key(loader: yaml.SafeLoader, node: yaml.Node) -> tuple[bool, Any]:
    """(usable, the constructed key) of a mapping key node: `1:` is the int 1, as in the document."""
    if not isinstance(node, yaml.ScalarNode):
        return False, None
    try:
        return True, loader.construct_object(node)
    except yaml.YAMLError:  # a key PyYAML cannot construct: no line for what is below it
        return False, None


def _lines(loader: yaml.SafeLoader, node: yaml.Node, path: KeyPath,
           seen: frozenset[int]) -> Iterator[tuple[KeyPath, int]]:
    """(key path, 1-based line) of every value below `node`; a mapping value's line is its key's."""
    if id(node) in seen:  # a recursive alias
        return
    seen = seen | {id(node)}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            usable, key = _key(loader, key_node)
            if usable:
                yield (*path, key), key_node.start_mark.line + 1
                yield from _lines(loader, value_node, (*path, key), seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield (*path, index), item.start_mark.line + 1
            yield from _lines(loader, item, (*path, index), seen)


def parse(text: str, where: str) -> tuple[Any, dict[KeyPath, int]]:
    """(the document, {key path: line}) of a YAML text, parsed once; malformed YAML is an
    MlopsCiError naming `where` and the line. A key given twice keeps its last value and line."""
    try:
        loader = yaml.SafeLoader(text)  # checks for unprintable characters first
        try:
            root = loader.get_single_node()
            if root is None:
                return None, {}
            document = loader.construct_document(root)  # resolves merge keys (<<) in the node tree too
            lines = {(): root.start_mark.line + 1}
            lines.update(_lines(loader, root, (), frozenset()))
            return document, lines
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as error:
        raise MlopsCiError(f"malformed YAML: {error.reason} (U+{error.character:04X})", where=where,
                           line=text.count("\n", 0, error.position) + 1) from error
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise MlopsCiError(f"malformed YAML: {error.problem or error}", where=where,
                           line=mark.line + 1 if mark is not None else None) from error
    except yaml.YAMLError as error:
        raise MlopsCiError(f"malformed YAML: {error}", where=where) from error
