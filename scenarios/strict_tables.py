"""Strict conversion of TOML tables into frozen dataclasses, with errors that say where.

A schema is a tree of frozen dataclasses whose fields carry metadata made by `param`: the
unit, the meaning, the allowed range or choices. `build` walks a located TOML document
(see `scenarios.toml_source`) against that tree and refuses anything it does not know: an
unknown key (suggesting the known key of the same name with another unit), a value of the
wrong type or unit, a count below zero, a month that is not YYYY-MM. Every error is one line:
`file:line: field: what is wrong (allowed: ...)`. The same metadata generates the reference
documentation, so the documented units and defaults are the ones enforced.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from dataclasses import MISSING, field
from typing import Any

from scenarios.months import is_month
from scenarios.schema import ScenarioError
from scenarios.toml_source import KeyPath, Located

ARRAY_ITEMS_MAX = 1000  # no plan has a thousand phases or targets; more is a generated mistake


def param(
    default: Any = MISSING,
    *,
    unit: str,
    doc: str,
    kind: str = "",
    low: float | None = 0,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    allowed: str = "",
) -> Any:
    """A schema field: `unit` is shown in errors and docs; `kind="month"` wants YYYY-MM; `allowed`
    describes a rule checked across fields (for the docs)."""
    meta = {"unit": unit, "doc": doc, "kind": kind, "low": low, "high": high, "choices": choices}
    meta["allowed"] = allowed
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


def _stem(key: str) -> str:
    return key.rsplit("_", 1)[0] if "_" in key else key


def suggest(key: str, allowed: list[str]) -> str:
    """`; did you mean X?` for a key with the wrong unit suffix or a typo, else ''."""
    same_stem = [a for a in allowed if _stem(a) == _stem(key) and "_" in key]
    close = same_stem or difflib.get_close_matches(key, allowed, 1, 0.75)
    return f"; did you mean {close[0]}?" if close else ""


def _unit_hint(unit: str) -> str:
    if unit == "fen":
        return " (money is an integer number of fen: CNY 1 = 100 fen; units go in the key name)"
    return f" (unit: {unit}; units go in the key name)" if unit else ""


class Builder:
    """Builds one schema tree from one located document."""

    def __init__(self, located: Located) -> None:
        self.located = located

    def fail(self, path: KeyPath, name: str, message: str) -> typing.NoReturn:
        raise ScenarioError(f"{self.located.at(path)}: {name}: {message}")

    def table(self, cls: type[Any], value: Any, path: KeyPath, name: str) -> Any:
        if not isinstance(value, dict):
            self.fail(path, name, f"{value!r} is not a table")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.metadata}
        allowed = list(fields)
        for key in value:
            if key not in fields:
                where = (*path, key)
                self.fail(
                    where,
                    f"{name}.{key}" if name else key,
                    f"unknown key{suggest(key, allowed)} (allowed: {', '.join(allowed)})",
                )
        out: dict[str, Any] = {}
        for key, f in fields.items():
            full = f"{name}.{key}" if name else key
            if key not in value:
                if f.default is MISSING and f.default_factory is MISSING:
                    self.fail(path, full, f"missing (required; {f.metadata['doc']})")
                continue
            out[key] = self.value(hints[key], f.metadata, value[key], (*path, key), full)
        return cls(**out)

    def value(self, kind: Any, meta: Any, value: Any, path: KeyPath, name: str) -> Any:
        origin = typing.get_origin(kind)
        args = typing.get_args(kind)
        if isinstance(kind, types.UnionType):
            if value is None:
                return None
            return self.value(next(a for a in args if a is not type(None)), meta, value, path, name)
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            return self.table(kind, value, path, name)
        if origin is tuple and isinstance(args[0], type) and dataclasses.is_dataclass(args[0]):
            return self.array(args[0], value, path, name)
        if origin is tuple:
            if not isinstance(value, list):
                self.fail(path, name, f"{value!r} is not a list of {meta['unit'] or 'strings'}")
            return tuple(
                self.scalar(args[0], meta, v, (*path, i), f"{name}[{i}]") for i, v in enumerate(value)
            )
        if origin is dict:
            if not isinstance(value, dict):
                self.fail(path, name, f"{value!r} is not a table")
            return value
        return self.scalar(kind, meta, value, path, name)

    def array(self, cls: type[Any], value: Any, path: KeyPath, name: str) -> tuple[Any, ...]:
        if not isinstance(value, list):
            self.fail(path, name, f"{value!r} is not an array of tables ([[{name}]])")
        if len(value) > ARRAY_ITEMS_MAX:
            self.fail(path, name, f"{len(value)} items (allowed: at most {ARRAY_ITEMS_MAX})")
        out = []
        for i, item in enumerate(value):
            label = item.get("name") if isinstance(item, dict) else None
            shown = f'{name} "{label}"' if isinstance(label, str) else f"{name}[{i}]"
            out.append(self.table(cls, item, (*path, i), shown))
        return tuple(out)

    def scalar(self, kind: Any, meta: Any, value: Any, path: KeyPath, name: str) -> Any:
        unit = meta["unit"]
        if kind is bool:
            if not isinstance(value, bool):
                self.fail(path, name, f"{value!r} is not true/false")
            return value
        if kind is str:
            if not isinstance(value, str):
                self.fail(path, name, f"{value!r} is not a string")
            if meta["kind"] == "month" and not is_month(value):
                self.fail(path, name, f"{value!r} is not a month (allowed: YYYY-MM)")
            if meta["choices"] and value not in meta["choices"]:
                self.fail(path, name, f"{value!r} is not known (allowed: {', '.join(meta['choices'])})")
            return value
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number:
            self.fail(path, name, f"{value!r} is not a number{_unit_hint(unit)}")
        if kind is int and not isinstance(value, int):
            self.fail(path, name, f"{value!r} is not a whole number{_unit_hint(unit)}")
        if not math.isfinite(value):
            self.fail(path, name, f"{value!r} is not a finite number")
        low, high = meta["low"], meta["high"]
        if low is not None and value < low:
            self.fail(path, name, f"{value!r} out of range (allowed: >= {low}{' ' + unit if unit else ''})")
        if high is not None and value > high:
            self.fail(path, name, f"{value!r} out of range (allowed: <= {high}{' ' + unit if unit else ''})")
        return float(value) if kind is float else value


def build(cls: type[Any], located: Located) -> Any:
    """The schema tree `cls` built from a whole located document."""
    return Builder(located).table(cls, located.doc, (), "")
