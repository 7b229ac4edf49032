"""Load YAML while remembering where every value stood, so errors can name file:line:col.

PyYAML's composed node tree carries marks, but composing it runs a Python resolver for every
value and loses where each alias stood. We read the parser's events (libyaml's when it is
installed) and build plain Python values ourselves, with a map from field path to position.

Input files are hand-written, sometimes hostile: aliases are expanded under a budget (a
"billion laughs" file is refused, not expanded), and only YAML's core types are read.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from os import PathLike
from typing import Any, Protocol

import yaml
from pydantic import BaseModel, ValidationError
from yaml.events import (
    AliasEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from bot.core.errors import UserError

Path = tuple[str | int, ...]

# libyaml parses several times faster than the pure-Python parser; both give the same events.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Values (nodes) a document may build, aliases expanded each time they are used: the text's
# own values (fewer than its characters) and a generous allowance for aliases on top.
ALIAS_ALLOWANCE = 200_000
MAX_DEPTH = 100  # plans nest about six levels; deeper is a mistake or an attack

_CORE = "tag:yaml.org,2002:"
_STR, _MERGE, _VALUE = f"{_CORE}str", f"{_CORE}merge", f"{_CORE}value"
_SEQ, _MAP = f"{_CORE}seq", f"{_CORE}map"
_SCALAR_TAGS = frozenset(
    f"{_CORE}{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "merge", "value")
)
_PLAIN_TAG = (None, "!")  # no tag, or the non-specific one: the resolver decides
_UNREADABLE = (ValueError, OverflowError, TypeError, KeyError, AttributeError, yaml.YAMLError)


class Mark(Protocol):
    """A parser position (0-based); PyYAML's and libyaml's marks both fit."""

    line: int
    column: int


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass
class PositionedDoc:
    """The plain data and, per path, where its value (and its key) stood in the file.

    ``problems`` are refusals of the file's structure (tags, alias bombs), reported on their
    own: the data is not validated while any is left."""

    data: Any
    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)
    duplicate_keys: list[Path] = field(default_factory=list)
    problems: list[tuple[Path, Mark, str]] = field(default_factory=list)

    def position(self, path: Path, *, key: bool = False) -> Position:
        """The closest known position: the path itself, else its nearest ancestor."""
        table = self.keys if key else self.values
        for end in range(len(path), -1, -1):
            found = table.get(path[:end]) or self.values.get(path[:end])
            if found:
                return Position(found.line + 1, found.column + 1)
        return Position(1, 1)


def load_positioned(text: str, *, loader: type[yaml.SafeLoader] | None = None) -> PositionedDoc:
    """Parse one YAML document; raises ``yaml.YAMLError`` (with a mark) on bad syntax."""
    parser = (loader or LOADER)(text)
    try:
        doc = PositionedDoc(data=None)
        _Builder(parser, doc, ALIAS_ALLOWANCE + len(text)).document()
        return doc
    finally:
        parser.dispose()


class _Refused(Exception):
    """Stops building: the rest of the file is not worth reading (or not safe to)."""

    def __init__(self, path: Path, mark: Mark, message: str) -> None:
        super().__init__(message)
        self.problem = (path, mark, message)


def _shown_tag(tag: str) -> str:
    return f"!!{tag[len(_CORE) :]}" if tag.startswith(_CORE) else tag


def _tag_problem(tag: str) -> str:
    return (
        f"the tag {_shown_tag(tag)} is not allowed: "
        "write plain values (text, numbers, dates, lists and mappings)"
    )


class _Builder:
    """Builds one document from parser events. An anchor's events are kept, and each alias
    replays them at its own path, so positions inside an alias point into the anchor and
    every expansion counts against the document's budget of values."""

    def __init__(self, parser: yaml.SafeLoader, doc: PositionedDoc, limit: int) -> None:
        self.parser = parser
        self.doc = doc
        self.limit = limit
        self.count = 0
        self.anchors: dict[str, list[Event]] = {}
        self.recorders: list[list[Event]] = []
        self.open: dict[str, Event] = {}  # anchors whose value is still being read
        self.expanding: list[tuple[AliasEvent, Path]] = []  # outermost alias first
        self.merging = 0  # inside a `<<` value: positions already known take precedence
        self.plain: dict[str, Any] = {}  # plain scalars repeat (keys, durations): resolve once
        self.values, self.keys = doc.values, doc.keys
        # The file's own events come from `raw`, or from `recording` inside an anchor (which
        # keeps them for its aliases); an alias replays them: `_is_live` tells which.
        self.raw = parser.get_event
        self.recording = self._recording

    def _recording(self) -> Event:
        event = self.raw()
        for recorder in self.recorders:
            recorder.append(event)
        return event

    def _is_live(self, nxt: Callable[[], Event]) -> bool:
        return nxt is self.raw or nxt is self.recording

    def document(self) -> None:
        get = self.parser.get_event
        get()  # StreamStartEvent
        start = get()
        if isinstance(start, StreamEndEvent):
            return
        try:
            self.doc.data = self.node(self.raw(), (), self.raw, 0)
        except _Refused as refused:
            self.doc.problems.append(refused.problem)
            return
        get()  # DocumentEndEvent
        extra = get()
        if not isinstance(extra, StreamEndEvent):
            raise yaml.composer.ComposerError(
                "expected a single document in the stream",
                start.start_mark,
                "but found another document",
                extra.start_mark,
            )

    def node(self, event: Event, path: Path, nxt: Callable[[], Event], depth: int) -> Any:
        self.count += 1
        if self.count > self.limit:
            raise self._too_many(event, path)
        if self.merging:
            self.values.setdefault(path, event.start_mark)
        else:
            self.values[path] = event.start_mark
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None and self._is_live(nxt):
                self._claim(event.anchor, event)
                self.anchors[event.anchor] = [event]
            return self.scalar(event, path)
        if kind is AliasEvent:
            return self.alias(event, path, depth)
        if depth >= MAX_DEPTH:
            raise _Refused(path, event.start_mark, "the YAML is nested too deeply")
        if event.anchor is None or not self._is_live(nxt):
            return self.collection(event, path, nxt, depth)
        anchor, recorder = event.anchor, [event]
        self._claim(anchor, event)
        self.recorders.append(recorder)
        self.open[anchor] = event
        value = self.collection(event, path, self.recording, depth)
        self.recorders.pop()  # anchors nest: the innermost ends first
        del self.open[anchor]
        self.anchors[anchor] = recorder
        return value

    def _claim(self, anchor: str, event: Event) -> None:
        """PyYAML refuses an anchor defined twice too: which value would an alias mean?"""
        first = self.open.get(anchor) or (self.anchors.get(anchor) or [None])[0]
        if first is not None:
            line = first.start_mark.line + 1
            problem = f"the anchor &{anchor} is defined twice (first on line {line})"
            raise yaml.composer.ComposerError(None, None, problem, event.start_mark)

    def _too_many(self, event: Event, path: Path) -> _Refused:
        alias, where = self.expanding[0] if self.expanding else (event, path)
        name = f"*{alias.anchor}" if isinstance(alias, AliasEvent) else "this value"
        return _Refused(
            where,
            alias.start_mark,
            f"too many aliases expanded: unfolding {name} takes the file past "
            f"{self.limit:,} values (a YAML alias bomb?)",
        )

    def alias(self, event: AliasEvent, path: Path, depth: int) -> Any:
        name = event.anchor
        if name in self.open:  # `a: &x [*x]`: a value that contains itself
            self.doc.problems.append(
                (path, event.start_mark, "an alias refers to the value that contains it")
            )
            return None
        events = self.anchors.get(name)
        if events is None:
            raise yaml.composer.ComposerError(
                None, None, f"found undefined alias {name!r}", event.start_mark
            )
        replay = iter(events)
        self.expanding.append((event, path))
        value = self.node(next(replay), path, replay.__next__, depth)
        self.expanding.pop()
        if not self.merging:
            self.values[path] = event.start_mark  # the path itself is where the alias is
        return value

    def scalar(self, event: ScalarEvent, path: Path) -> Any:
        tag, value = event.tag, event.value
        if tag in _PLAIN_TAG:
            if not event.implicit[0]:
                return value  # quoted, or `! text`: a string
            known = self.plain.get(value, self)
            if known is not self:
                return known
            tag = self.parser.resolve(yaml.ScalarNode, value, event.implicit)
            known = self.plain[value] = self.construct(tag, value)
            return known
        if tag not in _SCALAR_TAGS:
            self.doc.problems.append((path, event.start_mark, _tag_problem(tag)))
            return None
        return self.construct(tag, value)

    def construct(self, tag: str, value: str) -> Any:
        """A value that does not read as its type (``2026-13-45``, ``!!float abc``) stays the
        text it was, so the field's own check reports it beside every other error."""
        if tag in (_STR, _MERGE, _VALUE):
            return value
        try:
            return self.parser.yaml_constructors[tag](self.parser, yaml.ScalarNode(tag, value))
        except _UNREADABLE:
            return value

    def collection(self, event: Event, path: Path, nxt: Callable[[], Event], depth: int) -> Any:
        mapping = type(event) is MappingStartEvent
        tag = event.tag
        if tag not in _PLAIN_TAG and tag != (_MAP if mapping else _SEQ):
            self.doc.problems.append((path, event.start_mark, _tag_problem(tag)))
        if mapping:
            return self.mapping(path, nxt, depth + 1)
        result: list[Any] = []
        while type(item := nxt()) is not SequenceEndEvent:
            result.append(self.node(item, (*path, len(result)), nxt, depth + 1))
        return result

    def mapping(self, path: Path, nxt: Callable[[], Event], depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merges: list[dict[Any, Any]] = []
        while type(key_event := nxt()) is not MappingEndEvent:
            if _is_merge_key(key_event):
                merges += self.merged(nxt(), path, nxt, depth)
                continue
            key = self.key(key_event, path, nxt, depth)
            child = (*path, key)
            if key in result:
                self.doc.duplicate_keys.append(child)
            if self.merging:
                self.keys.setdefault(child, key_event.start_mark)
            else:
                self.keys[child] = key_event.start_mark
            result[key] = self.node(nxt(), child, nxt, depth)
        if not merges:
            return result
        combined: dict[Any, Any] = {}
        for merged in reversed(merges):  # the first merged mapping wins, own keys over all
            combined.update(merged)
        combined.update(result)
        return combined

    def key(self, event: Event, path: Path, nxt: Callable[[], Event], depth: int) -> Any:
        if type(event) is ScalarEvent and event.anchor is None:
            key = self.scalar(event, path)
        else:  # `? [1, 2]`, `*name`: read like a value, at a path no data can have
            key = self.node(event, (*path, -1), nxt, depth)
        return key if isinstance(key, str | int) else str(key)

    def merged(
        self, event: Event, path: Path, nxt: Callable[[], Event], depth: int
    ) -> list[dict[Any, Any]]:
        """The mappings of a ``<<`` key, read at the host mapping's own path."""
        self.merging += 1
        try:
            if type(event) is SequenceStartEvent:  # `<<: [*a, *b]`
                items = []
                while type(item := nxt()) is not SequenceEndEvent:
                    items.append(self.node(item, path, nxt, depth))
            else:
                value = self.node(event, path, nxt, depth)
                items = value if isinstance(value, list) else [value]
        finally:
            self.merging -= 1
        if all(isinstance(item, dict) for item in items):
            return items
        message = "'<<' merges a mapping or a list of mappings"
        self.doc.problems.append(((*path, "<<"), event.start_mark, message))
        return []


def _is_merge_key(event: Event) -> bool:
    if type(event) is not ScalarEvent or event.value != "<<":
        return False
    return event.tag == _MERGE or (event.tag in _PLAIN_TAG and event.implicit[0])


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

    def __init__(
        self,
        doc: PositionedDoc,
        filename: str,
        root: type[BaseModel],
        context: dict[str, Any] | None = None,
    ) -> None:
        self.doc = doc
        self.filename = filename
        self.root = root
        # Handed to every model's validators: what the file is checked against (the names
        # of the installed platforms) without the core importing any of it.
        self.context = context
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
            return model.model_validate(raw, context=self.context)
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


# Characters YAML will not take at the start of a plain value, and what the host meant.
_SYNTAX_HINTS = {
    "@": 'a value starting with @ must be quoted, e.g. "@teachat"',
    "`": "a value starting with ` must be quoted",
    "\t": "indent with spaces, not tabs",
}


def _syntax_hint(text: str, line: int, col: int) -> str:
    """libyaml says "found character that cannot start any token" without the character; the
    common cases (an @name, a tab) get the fix spelled out."""
    lines = text.splitlines()
    row = lines[line - 1] if 0 < line <= len(lines) else ""
    found = row[col - 1 : col]
    return f" ({_SYNTAX_HINTS[found]})" if found in _SYNTAX_HINTS else ""


def parse_positioned(text: str, filename: str) -> PositionedDoc:
    """Like ``load_positioned``, but a syntax error becomes a PlanError with its position."""
    try:
        doc = load_positioned(text)
    except RecursionError as exc:
        issue = PlanIssue(filename, 1, 1, "(syntax)", "the YAML is nested too deeply")
        raise PlanError([issue]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = getattr(exc, "problem", None) or str(exc)
        problem += _syntax_hint(text, line, col)
        issue = PlanIssue(filename, line, col, "(syntax)", f"YAML syntax error: {problem}")
        raise PlanError([issue]) from exc
    if doc.problems:
        issues = [
            PlanIssue(filename, mark.line + 1, mark.column + 1, format_path(path), message)
            for path, mark, message in doc.problems
        ]
        raise PlanError(sorted(issues, key=lambda i: (i.line, i.column)))
    return doc


def read_positioned(path: str | PathLike[str]) -> tuple[PositionedDoc, str]:
    """Read and parse a YAML file; any failure is a PlanError naming the file."""
    name = str(path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError([PlanIssue(name, 1, 1, "(file)", f"cannot read: {exc}")]) from exc
    return parse_positioned(text, name), name
