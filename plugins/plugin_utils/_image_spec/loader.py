"""Read an image spec file strictly: bounded in size, nesting and alias expansion, no duplicate keys.

An image spec is a small hand-written file, so whatever a hand-written file never needs is refused
before anything reads the data, each with the file, the line and (where there is one) the field:

- more than ``MAX_BYTES`` bytes, or text that is not UTF-8;
- a key given twice in one mapping (YAML keeps the last one silently; an override with the merge
  key ``<<`` is not a duplicate);
- more than ``MAX_ALIASES`` aliases, or aliases that expand to more than ``MAX_NODES`` values (an
  alias bomb: a few lines that expand to billions), an alias inside its own anchor (a recursive
  structure), nesting deeper than ``MAX_DEPTH``;
- YAML that does not parse, several documents, tags that plain data does not have (``!!python/...``,
  ``!!binary``, ``!!set``, ``!vault``), a key that is a list or a mapping.

The expansion is counted on the composed node graph (each anchored node once), so a bomb is refused
in milliseconds without being expanded. A date that does not exist (``2026-02-30``) is kept as the
string it is written as, so the validator refuses it naming its field instead of the parser failing
on it. Valid dates load as dates, as PyYAML's safe loader loads them.
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import join

MAX_BYTES = 1024 * 1024
MAX_ALIASES = 500
MAX_NODES = 100_000
MAX_DEPTH = 64

_MERGE_TAG = "tag:yaml.org,2002:merge"
# What a plain YAML file holds; !!binary, !!set, !!omap, !!pairs and application tags are refused.
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
)


class SpecFileError(ValueError):
    """The image spec file cannot be read; the message names the file and, when known, the line."""


class _Refused(Exception):
    """Raised inside the loader with the position (a YAML mark) of the node at fault."""

    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None
        self.message = message


try:  # libyaml's parser when PyYAML has it (three times faster); the composer stays Python's
    from yaml._yaml import CParser

    _PARSER: tuple[type, ...] = (CParser,)
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _PARSER = (yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser)


class _StrictLoader(
    yaml.composer.Composer, *_PARSER, yaml.constructor.SafeConstructor, yaml.resolver.Resolver
):
    """PyYAML's safe loader with a composer that counts, over libyaml's parser when there is one."""

    def __init__(self, stream: str) -> None:
        if len(_PARSER) == 1:
            _PARSER[0].__init__(self, stream)
        else:  # pragma: no cover
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self.aliases = 0
        self._paths: list[str] = []  # the field being composed, and its parents

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node, tracking its field, counting aliases and bounding the nesting."""
        path = self._field(index)
        where = path or "(root)"
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Refused(
                    self.peek_event().start_mark,
                    f"{where}: more than {MAX_ALIASES} aliases (*name): an image spec needs few",
                )
        if len(self._paths) >= MAX_DEPTH:
            where = where if len(where) <= 100 else where[:97] + "..."
            raise _Refused(self.peek_event().start_mark, f"{where}: nested more than {MAX_DEPTH} levels deep")
        self._paths.append(path)
        try:
            return super().compose_node(parent, index)
        finally:
            self._paths.pop()

    def _field(self, index: Any) -> str:
        """The dotted field of the node composed at ``index`` (a sequence index, a key's node)."""
        parent = self._paths[-1] if self._paths else ""
        if isinstance(index, int):
            return f"{parent}[{index}]"
        if isinstance(index, yaml.ScalarNode):
            return join(parent, str(index.value))
        return parent  # the root, or a mapping's key

    def construct_yaml_timestamp(self, node: Any) -> Any:
        """A date or time as PyYAML reads it; one that does not exist stays the string written."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


class _Walk:
    """One pass over the composed node graph: expansion size, expanded depth, duplicate keys."""

    def __init__(self, loader: _StrictLoader) -> None:
        self.loader = loader
        self.done: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, expanded height)
        self.open: set[int] = set()

    def node(self, node: yaml.Node, path: str, depth: int) -> tuple[int, int]:
        where = path or "(root)"
        known = self.done.get(id(node))
        if known is not None:
            if depth + known[1] > MAX_DEPTH:
                raise _Refused(node.start_mark, f"{where}: aliases nest it more than {MAX_DEPTH} levels deep")
            return known
        if id(node) in self.open:
            raise _Refused(
                node.start_mark, f"{where}: an alias inside its own anchor (a recursive structure)"
            )
        if depth > MAX_DEPTH:
            raise _Refused(node.start_mark, f"{where}: aliases nest it more than {MAX_DEPTH} levels deep")
        _plain(node, where)
        self.open.add(id(node))
        size, height = 1, 0
        for child, child_path in self._children(node, path):
            child_size, child_height = self.node(child, child_path, depth + 1)
            size, height = size + child_size, max(height, child_height + 1)
            if size > MAX_NODES:
                raise _Refused(
                    node.start_mark,
                    f"{where}: more than {MAX_NODES} values{self._expanded()}; an image spec is far smaller",
                )
        self.open.discard(id(node))
        self.done[id(node)] = (size, height)
        return size, height

    def _expanded(self) -> str:
        return " once its aliases are expanded (an alias bomb?)" if self.loader.aliases else ""

    def _children(self, node: yaml.Node, path: str) -> list[tuple[yaml.Node, str]]:
        if isinstance(node, yaml.SequenceNode):
            return [(child, f"{path}[{index}]") for index, child in enumerate(node.value)]
        if not isinstance(node, yaml.MappingNode):
            return []
        children: list[tuple[yaml.Node, str]] = []
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                children.append((value_node, path))  # merged keys land in this mapping
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(
                    key_node.start_mark,
                    f"{path or '(root)'}: a key must be a plain value, not a list or mapping",
                )
            _plain(key_node, path or "(root)")
            key = self._key(key_node)
            field = join(path, str(key))
            if key is not None and key in seen:
                raise _Refused(
                    key_node.start_mark,
                    f"{field}: duplicate key (first at line {seen[key]}); YAML would silently keep "
                    "only the last one: give each key once",
                )
            if key is not None:
                seen[key] = key_node.start_mark.line + 1
            children += [(key_node, field), (value_node, field)]
        return children

    def _key(self, key_node: yaml.Node) -> Any:
        """The key's value as the constructor will make it (None when it cannot be a dict key)."""
        key = self.loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            return None
        return key


def _plain(node: yaml.Node, where: str) -> None:
    """Refuse a node with a tag that plain YAML data does not have (``!!python/...``, ``!vault``)."""
    if node.tag not in _PLAIN_TAGS:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise _Refused(
            node.start_mark, f"{where}: the tag {tag} is not allowed in an image spec (plain YAML only)"
        )


def parse_image_spec_text(text: str, name: str) -> Any:
    """Return the data of one YAML document, read strictly; raise SpecFileError naming ``name``."""
    loader = None
    try:
        loader = _StrictLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _Walk(loader).node(node, "", 0)
        return loader.construct_document(node)
    except _Refused as exc:
        raise SpecFileError(f"{name}: line {exc.line}: {exc.message}") from None
    except yaml.YAMLError as exc:
        raise SpecFileError(f"{name}: {_yaml_error(exc, text)}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _yaml_error(exc: yaml.YAMLError, text: str) -> str:
    """``line N: what`` of a parser error."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        return f"line {line}: character {char} is not allowed in YAML ({exc.reason})"
    if not isinstance(exc, yaml.MarkedYAMLError):
        return f"not valid YAML: {exc}"
    mark = exc.problem_mark or exc.context_mark
    line = f"line {mark.line + 1}: " if mark is not None else ""
    if exc.context == "expected a single document in the stream":
        return f"{line}a second YAML document (---): an image spec is one"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    return f"{line}not valid YAML: {exc.problem or exc.context}{context}"


def read_image_spec_file(path: str | os.PathLike[str], name: str | None = None) -> Any:
    """Read and parse the image spec file ``path`` (at most ``MAX_BYTES``); raise SpecFileError.

    ``name`` is how messages name the file (default: ``path``).
    """
    name = str(path) if name is None else name
    if os.path.exists(path) and not os.path.isfile(path):
        raise SpecFileError(f"{name}: is not a regular file")  # a directory, a device, a pipe
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecFileError(f"{name}: cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise SpecFileError(f"{name}: larger than {MAX_BYTES} bytes (1 MiB), the most an image spec may have")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecFileError(f"{name}: line {line}: not UTF-8 text ({exc.reason})") from None
    return parse_image_spec_text(text, name)
