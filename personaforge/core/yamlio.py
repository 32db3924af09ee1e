"""Load YAML into pydantic models with `file:line: field: problem` errors; dump atomically."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from personaforge.core.wording import plain_message
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_write_text

M = TypeVar("M", bound=BaseModel)

Loc = tuple[Any, ...]


# libyaml's C scanner and emitter where PyYAML was built with it (the wheels are): the recorded
# manifests hold every word and viseme of the video, and the pure-Python parser took seconds
# to read them. Same safe constructor and resolver either way.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """The safe loader, refusing duplicate keys instead of silently keeping the last."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def _line_map(
    node: yaml.Node | None, path: Loc = (), out: dict[Loc, int] | None = None
) -> dict[Loc, int]:
    out = {} if out is None else out
    if node is None:
        return out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            sub = (*path, k.value)
            out[sub] = k.start_mark.line + 1
            _line_map(v, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = (*path, i)
            out[sub] = item.start_mark.line + 1
            _line_map(item, sub, out)
    return out


def _field_names(model: type[BaseModel], loc: Loc) -> list[str]:
    """The allowed keys at the mapping that holds ``loc``'s last element."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        ann = fields[part].annotation
        current = _unwrap_model(ann)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else []


def _unwrap_model(ann: Any) -> Any:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = _unwrap_model(arg)
        if found is not None:
            return found
    return None


def line_of(path: Path, loc: Loc) -> int | None:
    """The line of ``loc`` (or of its deepest part that exists) in the YAML file at ``path``."""
    try:
        lines = _line_map(yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=_SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validate_data(
    model: type[M],
    data: Any,
    *,
    file: Path | None,
    lines: dict[Loc, int] | Callable[[], dict[Loc, int]] | None = None,
) -> M:
    """``data`` as ``model``, or one PersonaForgeError naming the first bad field (and its
    line, where ``lines`` maps fields to lines of ``file``, or makes that map on demand)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = (lines() if callable(lines) else lines) or {}
        err = exc.errors()[0]
        # pydantic adds union-member names to loc; keep only the keys that exist in the file.
        loc: Loc = tuple(
            p for p in err["loc"] if isinstance(p, int) or not str(p).startswith("function-")
        )
        # The deepest part of the path that exists in the file gives the line.
        line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
        msg = plain_message(err) or err["msg"]
        if err["type"] == "extra_forbidden":
            allowed = _field_names(model, loc)
            guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            msg = "unknown key"
            if guess:
                msg += f"; did you mean {guess[0]!r}?"
            elif allowed:
                msg += f"; allowed keys: {', '.join(allowed)}"
        elif err["type"] == "missing":
            msg = "required field is missing"
        more = len(exc.errors()) - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise PersonaForgeError(msg, file=file, line=line, field=format_loc(loc) or None) from None


def load_model(model: type[M], path: Path) -> M:
    """Read ``path`` (YAML, safe loader) and validate it as ``model``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PersonaForgeError("file not found", file=path) from None
    except IsADirectoryError:
        raise PersonaForgeError("expected a file, found a folder", file=path) from None
    except UnicodeDecodeError:
        raise PersonaForgeError("file is not UTF-8 text", file=path) from None
    except OSError as exc:
        raise PersonaForgeError(f"cannot read file: {exc.strerror}", file=path) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context_mark is not None and "quoted scalar" in (exc.context or ""):
            # An unclosed quote: the error is where the quote opened, not where YAML gave up.
            mark, problem = exc.context_mark, "a quote that is never closed"
        line = mark.line + 1 if mark is not None else None
        raise PersonaForgeError(f"invalid YAML: {problem}", file=path, line=line) from None
    except yaml.YAMLError as exc:
        raise PersonaForgeError(f"invalid YAML: {exc}", file=path) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PersonaForgeError("expected a mapping of keys at the top level", file=path, line=1)
    # The lines of the fields are only needed to report a bad one: parsed again then.
    return validate_data(
        model, data, file=path, lines=lambda: _line_map(yaml.compose(text, Loader=_SafeLoader))
    )


def dump_model(model: BaseModel, path: Path) -> None:
    data = model.model_dump(mode="json", exclude_none=True)
    text = yaml.dump(data, Dumper=_SafeDumper, sort_keys=False, allow_unicode=True, width=100)
    atomic_write_text(path, text)
