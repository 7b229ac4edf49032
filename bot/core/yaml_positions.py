"""Load YAML while remembering where every value stood, so errors can name file:line:col.

PyYAML's composed node tree carries marks; the usual ``safe_load`` throws them away. We
construct plain Python values ourselves and keep a map from field path to position.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.core.errors import UserError

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass
class PositionedDoc:
    """The plain data and, per path, where its value (and its key) stood in the file."""

    data: Any
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    duplicate_keys: list[Path] = field(default_factory=list)

    def position(self, path: Path, *, key: bool = False) -> Position:
        """The closest known position: the path itself, else its nearest ancestor."""
        table = self.keys if key else self.values
        for end in range(len(path), -1, -1):
            found = table.get(path[:end]) or self.values.get(path[:end])
            if found:
                return found
        return Position(1, 1)


def _pos(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def load_positioned(text: str) -> PositionedDoc:
    """Parse one YAML document; raises ``yaml.YAMLError`` (with a mark) on bad syntax."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        doc = PositionedDoc(data=None)
        if node is not None:
            doc.data = _build(loader, node, (), doc)
        return doc
    finally:
        loader.dispose()


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """PyYAML's constructors raise plain ValueError/OverflowError for values such as
    ``2026-13-45`` or ``!!float abc``; give them the node's position like any YAML error."""
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        raise
    except (ValueError, OverflowError, TypeError, RecursionError) as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"cannot read this value ({exc})", node.start_mark
        ) from exc


def _build(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Path,
    doc: PositionedDoc,
    open_nodes: frozenset[int] = frozenset(),
) -> Any:
    doc.values.setdefault(path, _pos(node.start_mark))
    if id(node) in open_nodes:  # an alias inside its own anchor: `a: &x [*x]`
        raise yaml.constructor.ConstructorError(
            None, None, "an alias refers to the value that contains it", node.start_mark
        )
    inner = open_nodes | {id(node)}
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(loader, key_node)
            if not isinstance(key, str | int):
                key = str(key)
            child = (*path, key)
            if key in result:
                doc.duplicate_keys.append(child)
            doc.keys[child] = _pos(key_node.start_mark)
            doc.values[child] = _pos(value_node.start_mark)
            result[key] = _build(loader, value_node, child, doc, inner)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), doc, inner) for i, item in enumerate(node.value)]
    return _construct(loader, node)


def format_path(path: Path) -> str:
    """``chats[1].questions[2].at``: the notation people know from JSON tools."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


@dataclass(frozen=True)
class PlanIssue:
    """One problem in an input file, printable as ``file:line:col path: message``."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column} {self.path}: {self.message}"


class PlanError(UserError):
    """All the problems of an input file at once, so they can be fixed in one pass."""

    def __init__(self, issues: list[PlanIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class PositionedValidator:
    """Runs pydantic models over positioned YAML and turns every error into a PlanIssue."""

    def __init__(self, doc: PositionedDoc, filename: str, root: type[BaseModel]) -> None:
        self.doc = doc
        self.filename = filename
        self.root = root
        self.issues: list[PlanIssue] = []

    def add(self, path: Path, message: str, *, key: bool = False) -> None:
        pos = self.doc.position(path, key=key)
        issue = PlanIssue(self.filename, pos.line, pos.column, format_path(path), message)
        self.issues.append(issue)

    def raise_if_any(self) -> None:
        if self.issues:
            self.issues.sort(key=lambda i: (i.line, i.column))
            raise PlanError(self.issues)

    def validate(self, model: type[BaseModel], raw: Any, prefix: Path) -> Any:
        """The validated model, or None after recording each of its errors."""
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                self._add_pydantic(err, prefix)
            return None

    def check_unique(self, values: list[str], where: Callable[[int], Path], what: str) -> None:
        seen: set[str] = set()
        for i, value in enumerate(values):
            if value in seen:
                self.add(where(i), f"duplicate {what} {value!r}")
            seen.add(value)

    def _add_pydantic(self, err: Any, prefix: Path) -> None:
        # pydantic adds union-member names such as "function-after[...]" to locations.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        path = (*prefix, *loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            self.add(path, self._unknown_key_message(path), key=True)
        elif kind == "missing":
            self.add(path, "is required")
        else:
            message = re.sub(r"^(Value|Assertion) error, ", "", err["msg"])
            shown = err.get("input")
            if kind != "value_error" and isinstance(shown, str | int | float):
                message = f"{json.dumps(shown)}: {message}"
            self.add(path, message)

    def _unknown_key_message(self, path: Path) -> str:
        if not path:  # the key's name looked like a pydantic location and was filtered out
            return "unknown key"
        parent = model_at(self.root, path[:-1])
        choices = list(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(path[-1]), choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key {path[-1]!r}{hint}"


def model_at(root: type[BaseModel], path: Path) -> type[BaseModel] | None:
    """Which model a path inside the document points at, for 'did you mean' hints."""
    model: type[BaseModel] | None = root
    for part in path:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        annotation = getattr(info, "annotation", None)
        args = getattr(annotation, "__args__", ()) or (annotation,)
        model = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return model


def parse_positioned(text: str, filename: str) -> PositionedDoc:
    """Like ``load_positioned``, but a syntax error becomes a PlanError with its position."""
    try:
        return load_positioned(text)
    except RecursionError as exc:
        issue = PlanIssue(filename, 1, 1, "(syntax)", "the YAML is nested too deeply")
        raise PlanError([issue]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = getattr(exc, "problem", None) or str(exc)
        issue = PlanIssue(filename, line, col, "(syntax)", f"YAML syntax error: {problem}")
        raise PlanError([issue]) from exc


def read_positioned(path: str | PathLike[str]) -> tuple[PositionedDoc, str]:
    """Read and parse a YAML file; any failure is a PlanError naming the file."""
    name = str(path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError([PlanIssue(name, 1, 1, "(file)", f"cannot read: {exc}")]) from exc
    return parse_positioned(text, name), name
