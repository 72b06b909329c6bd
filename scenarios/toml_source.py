"""Reading scenario TOML with provenance: every value knows the file and line it came from.

stdlib tomllib gives values but no positions, so a light line scanner maps each key path
(`("phase", 2, "end_month")`) to its line; the scanner follows `[table]`, `[[array]]` and
`key = value` lines, which is all the scenario files use. A document may `extends` a base
file (a path relative to it): the base is read first and the document's tables are merged
over it key by key, while arrays of tables (`[[phase]]`) are replaced whole, since merging
lists item by item would hide which plan is in force. Overrides given in code or on the
command line are applied last and are located as `override NAME`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenarios.schema import ScenarioError

KeyPath = tuple[str | int, ...]
EXTENDS_DEPTH_MAX = 8  # a chain longer than this is a mistake (or a cycle)
_HEADER_ARRAY = re.compile(r"^\[\[\s*([^\[\]]+?)\s*\]\]")
_HEADER_TABLE = re.compile(r"^\[\s*([^\[\]]+?)\s*\]")
_KEY = re.compile(r"^([A-Za-z0-9_\-.\"' ]+?)\s*=")
_TOML_LINE = re.compile(r"at line (\d+)")


@dataclass(slots=True)
class Located:
    """A merged TOML document and, for each key path, where its value was written."""

    doc: dict[str, Any]
    where: dict[KeyPath, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def at(self, path: KeyPath) -> str:
        """`file:line` (or `override NAME`) of a key path, or of its nearest written ancestor."""
        for n in range(len(path), -1, -1):
            if path[:n] in self.where:
                return self.where[path[:n]]
        return self.files[-1] if self.files else "<memory>"


def _split_key(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in text.split(".")]


def key_lines(text: str) -> dict[KeyPath, int]:
    """Line numbers (1-based) of tables, array items and keys in TOML text."""
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    counts: dict[KeyPath, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if m := _HEADER_ARRAY.match(line):
            name = tuple(_split_key(m.group(1)))
            index = counts.get(name, 0)
            counts[name] = index + 1
            table = (*name, index)
            lines.setdefault(name, number)
            lines.setdefault(table, number)
        elif m := _HEADER_TABLE.match(line):
            table = tuple(_split_key(m.group(1)))
            lines.setdefault(table, number)
        elif m := _KEY.match(line):
            lines.setdefault((*table, *_split_key(m.group(1))), number)
    return lines


def _read(path: Path, shown: str) -> tuple[dict[str, Any], dict[KeyPath, str]]:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ScenarioError(f"{shown}:1: cannot read scenario: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{shown}:1: not UTF-8 text") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_LINE.search(str(exc))
        raise ScenarioError(f"{shown}:{m.group(1) if m else 1}: not valid TOML: {exc}") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively (found by fuzzing).
        raise ScenarioError(f"{shown}:1: not valid TOML: nested too deeply") from None
    return doc, {k: f"{shown}:{n}" for k, n in key_lines(text).items()}


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _replaced_arrays(top: Mapping[str, Any], prefix: KeyPath = ()) -> list[KeyPath]:
    out: list[KeyPath] = []
    for key, value in top.items():
        if isinstance(value, list):
            out.append((*prefix, key))
        elif isinstance(value, dict):
            out.extend(_replaced_arrays(value, (*prefix, key)))
    return out


def shown_path(path: Path) -> str:
    """A path as errors show it: relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_located(path: Path, depth: int = 0, seen: tuple[Path, ...] = ()) -> Located:
    """Read a TOML file and the chain of files it `extends`, merged, with provenance."""
    shown = shown_path(path)
    resolved = path.resolve()
    if resolved in seen:
        raise ScenarioError(f"{shown}:1: extends: a cycle of files extending each other")
    doc, where = _read(path, shown)
    extends = doc.pop("extends", None)
    if extends is None:
        return Located(doc, where, [shown])
    if not isinstance(extends, str):
        raise ScenarioError(f"{where.get(('extends',), shown)}: extends: {extends!r} is not a file name")
    if depth >= EXTENDS_DEPTH_MAX:
        raise ScenarioError(
            f"{where.get(('extends',), shown)}: extends: more than {EXTENDS_DEPTH_MAX} levels"
        )
    base_path = path.parent / extends
    if not base_path.is_file():
        raise ScenarioError(f"{where[('extends',)]}: extends: {extends!r}: no such file next to {shown}")
    base = read_located(base_path, depth + 1, (*seen, resolved))
    for array in _replaced_arrays(doc):
        base.where = {k: v for k, v in base.where.items() if k[: len(array)] != array}
    base.doc = _merge(base.doc, doc)
    base.where.update(where)
    base.files.append(shown)
    return base


def _array_index(items: list[Any], key: str, name: str) -> int:
    if key.isdigit() and int(key) < len(items):
        return int(key)
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == key:
            return i
    names = [str(item.get("name", i)) for i, item in enumerate(items) if isinstance(item, dict)]
    raise ScenarioError(f"override {name}: no item {key!r} (allowed: an index or a name: {', '.join(names)})")


def apply_overrides(located: Located, overrides: Mapping[str, object]) -> None:
    """Set dotted names (`adoption.imitation_q`, `phase.launch.end_month`) in the document.

    An item of an array of tables is named by its index or its `name`. Values are checked later
    with the file's values; their errors name `override NAME`.
    """
    for name, value in overrides.items():
        parts = name.split(".")
        if not all(parts):
            raise ScenarioError(f"override {name}: not a dotted name (section.key)")
        node: Any = located.doc
        path: KeyPath = ()
        for part in parts[:-1]:
            if isinstance(node, list):
                index = _array_index(node, part, name)
                node, path = node[index], (*path, index)
            elif isinstance(node, dict):
                if part not in node:
                    located.where[(*path, part)] = f"override {name}"
                node = node.setdefault(part, {})
                path = (*path, part)
            else:
                raise ScenarioError(f"override {name}: {'.'.join(map(str, path))} is a value, not a table")
        if not isinstance(node, dict):
            raise ScenarioError(f"override {name}: {'.'.join(map(str, path))} is not a table")
        node[parts[-1]] = value
        located.where[(*path, parts[-1])] = f"override {name}"
