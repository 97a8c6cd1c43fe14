"""Typed, validated method options.

A method declares its options as a frozen dataclass (`Method.Options`); each field is an `option(...)` with a
default, a one-line meaning and, where they apply, choices (a `Literal` type) and bounds; related options sit in a
nested dataclass declared with `group(...)` and are addressed with dotted keys (`--set tree.kernel=rbf`,
`--set qnehvi.q=8`). `parse_options` turns user values (strings from the command line, or JSON/TOML-typed values
from code and study files) into an instance, before any work starts: unknown keys, wrong types, values outside
their range or choices are one clear `HarnessError` line each. Supported field types: bool, int, float, str,
`Literal[...]`, unions of those, and `X | None`.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from harness.errors import HarnessError

T = TypeVar("T")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NONE = {"null", "none"}
_INT = re.compile(r"[+-]?\d+")


def option(
    default: Any, help: str, *, ge: float | None = None, gt: float | None = None, le: float | None = None
) -> Any:
    """A dataclass field for one option: default, meaning (one line, with units) and optional bounds."""
    return field(default=default, metadata={"help": help, "ge": ge, "gt": gt, "le": le})


def group(cls: type[T], help: str) -> Any:
    """A dataclass field holding a nested group of options (addressed as `NAME.KEY`)."""
    return field(default_factory=cls, metadata={"help": help, "group": True})


@dataclass(frozen=True)
class NoOptions:
    """A method without options."""


@dataclass(frozen=True)
class OptionSpec:
    """One leaf option of a method, flattened: dotted key, type text, default, meaning, bounds."""

    key: str
    type_text: str
    default: Any
    help: str
    annotation: Any = dataclasses.field(repr=False)
    ge: float | None = None
    gt: float | None = None
    le: float | None = None

    def bounds_text(self) -> str:
        bounds = (("> ", self.gt), (">= ", self.ge), ("<= ", self.le))
        return ", ".join(f"{op}{value:g}" for op, value in bounds if value is not None)


def _type_text(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_text(a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The resolved field types of an options dataclass (resolved once per class: options are parsed per run)."""
    return typing.get_type_hints(cls)


@functools.cache
def option_specs(cls: type) -> tuple[OptionSpec, ...]:
    """Every leaf option of an options dataclass, depth first, with dotted keys."""
    return tuple(_walk(cls, ""))


def _walk(cls: type, prefix: str) -> Iterator[OptionSpec]:
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        key = prefix + f.name
        if f.metadata.get("group"):
            yield from _walk(hints[f.name], key + ".")
            continue
        meta = f.metadata
        yield OptionSpec(
            key,
            _type_text(hints[f.name]),
            f.default,
            meta.get("help", ""),
            hints[f.name],
            meta.get("ge"),
            meta.get("gt"),
            meta.get("le"),
        )


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings -> dotted keys (`{"tree": {"kernel": "rbf"}}` -> `{"tree.kernel": "rbf"}`)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _coerce(annotation: Any, value: Any) -> Any:
    """`value` as an instance of `annotation`; strings are parsed (command-line values). Raises ValueError."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = typing.get_args(annotation)
        if type(None) in members and (value is None or (isinstance(value, str) and value.lower() in _NONE)):
            return None
        for member in (m for m in members if m is not type(None)):
            try:
                return _coerce(member, value)
            except ValueError:
                continue
        raise ValueError(f"expected {_type_text(annotation)}")
    if origin is Literal:
        choices = typing.get_args(annotation)
        for choice in choices:
            try:
                if _coerce(type(choice), value) == choice:
                    return choice
            except ValueError:
                continue
        raise ValueError(f"expected one of {', '.join(repr(c) for c in choices)}")
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ValueError("expected true or false")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INT.fullmatch(value.strip()):
            return int(value)
        raise ValueError("expected an integer")
    if annotation is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise ValueError("expected a number") from None
        else:
            raise ValueError("expected a number")
        if not math.isfinite(number):
            raise ValueError("expected a finite number")
        return number
    if annotation is str:
        if isinstance(value, str):
            return value
        raise ValueError("expected a string")
    raise ValueError(f"unsupported option type {annotation!r}")


def _check_bounds(spec: OptionSpec, value: Any) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return
    if spec.ge is not None and value < spec.ge:
        raise ValueError(f"must be >= {spec.ge:g}")
    if spec.gt is not None and value <= spec.gt:
        raise ValueError(f"must be > {spec.gt:g}")
    if spec.le is not None and value > spec.le:
        raise ValueError(f"must be <= {spec.le:g}")


def _suggest(key: str, specs: tuple[OptionSpec, ...]) -> list[str]:
    """Likely meant keys: same key with `_` for `.` (an old flat name), same last part, or close spellings."""
    keys = [s.key for s in specs]
    flat = [k for k in keys if k.replace(".", "_") == key.replace(".", "_")]
    leaf = [k for k in keys if k.rsplit(".", 1)[-1] == key.rsplit(".", 1)[-1]]
    return flat or leaf or difflib.get_close_matches(key, keys, n=3)


def parse_options(cls: type[T], values: Mapping[str, Any] | None, method: str = "method") -> T:
    """An instance of the options dataclass `cls` from (nested or dotted) `values`; defaults fill the rest."""
    specs = {s.key: s for s in option_specs(cls)}  # type: ignore[arg-type]  # classes are hashable
    flat = flatten(values or {})
    resolved: dict[str, Any] = {}
    for key, raw in flat.items():
        spec = specs.get(key)
        if spec is None:
            close = _suggest(key, tuple(specs.values()))
            hint = f"did you mean {' or '.join(close)}?" if close else f"known: {', '.join(specs) or 'none'}"
            raise HarnessError(f"unknown option '{key}' for {method}; {hint} (see `harness methods show {method}`)")
        try:
            value = _coerce(spec.annotation, raw)
            _check_bounds(spec, value)
        except ValueError as exc:
            raise HarnessError(f"bad option {key}={raw!r} for {method}: {exc} ({spec.help})") from None
        resolved[key] = value
    return _build(cls, resolved, "")


def _build(cls: type[T], resolved: dict[str, Any], prefix: str) -> T:
    hints = _hints(cls)  # type: ignore[arg-type]  # classes are hashable
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = prefix + f.name
        if f.metadata.get("group"):
            kwargs[f.name] = _build(hints[f.name], resolved, key + ".")
        elif key in resolved:
            kwargs[f.name] = resolved[key]
    return cls(**kwargs)


def options_dict(options: Any) -> dict[str, Any]:
    """An options instance as a nested plain dict (for run records)."""
    return dataclasses.asdict(options)
