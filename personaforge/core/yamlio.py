"""Load YAML into pydantic models with `file:line: field: problem` errors; dump atomically.

What a user writes is checked before anything walks it: no anchors or aliases (an alias bomb
of a few hundred bytes expands without limit), no nesting past ``MAX_DEPTH``, no file over its
size cap, and only text as mapping keys. What the tool records is sealed with a hash of its
own content (``dump_model(..., seal=True)``) so a hand-edited record is noticed, not trusted."""

from __future__ import annotations

import difflib
import hashlib
import os
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

# persona.yaml, video.yaml, brand.yaml and a recipe are a few KB; a megabyte is a mistake.
MAX_USER_BYTES = 1 << 20
# A recorded manifest holds every word and viseme: an hour of speech is tens of MB.
MAX_MANIFEST_BYTES = 256 << 20
MAX_DEPTH = 64
SEAL_PREFIX = "# personaforge-sha256: "


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
        if not isinstance(key_node, yaml.ScalarNode):
            kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
            raise yaml.constructor.ConstructorError(
                None, None, f"a mapping key must be text, not a {kind}", key_node.start_mark
            )
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a mapping key must be text, not {key!r} (quote it: '{key_node.value}')",
                key_node.start_mark,
            )
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


def _check_structure(text: str) -> None:
    """Refuse anchors, aliases and deep nesting before anything composes or walks the YAML:
    composing an alias bomb is cheap, but everything that walks the result (validation, the
    line map) follows each alias and never ends. Raises a MarkedYAMLError at the culprit."""
    depth = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases (&name, *name) are not allowed",
                problem_mark=event.start_mark,  # type: ignore[arg-type]
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    problem=f"nested more than {MAX_DEPTH} levels deep",
                    problem_mark=event.start_mark,  # type: ignore[arg-type]
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def seal_text(text: str) -> str:
    """``text`` with its seal appended (what dump_model(seal=True) writes)."""
    return f"{text}{SEAL_PREFIX}{hashlib.sha256(text.encode('utf-8')).hexdigest()}\n"


def seal_problem(text: str) -> str | None:
    """Why a recorded manifest's text cannot be trusted (it is sealed, and its seal does not
    match its content), or None. A record with no seal at all was written before records
    were sealed: it is checked like a user's file, not refused (refusing it would make an
    upgrade pay again for every Claude plan)."""
    body, found, digest = text.rstrip("\n").rpartition("\n" + SEAL_PREFIX)
    if not found:
        return None
    if hashlib.sha256((body + "\n").encode("utf-8")).hexdigest() != digest.strip():
        return "its content no longer matches its hash (edited by hand?)"
    return None


def is_sealed(text: str) -> bool:
    return f"\n{SEAL_PREFIX}" in text[-(len(SEAL_PREFIX) + 80) :]


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
        text = _read_capped(path, MAX_MANIFEST_BYTES)
        if not is_sealed(text) or seal_problem(text) is not None:
            _check_structure(text)  # what the tool sealed has no aliases
        lines = _line_map(yaml.compose(text, Loader=_SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, PersonaForgeError):
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


def _read_capped(path: Path, max_bytes: int) -> str:
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        data = fh.read(max_bytes + 1)
    if max(size, len(data)) > max_bytes:
        raise PersonaForgeError(
            f"file is too large ({max(size, len(data)):,} bytes; the limit is {max_bytes:,})",
            file=path,
        )
    return data.decode("utf-8-sig")


def load_model(
    model: type[M], path: Path, *, max_bytes: int = MAX_USER_BYTES, sealed: bool = False
) -> M:
    """Read ``path`` (YAML, safe loader) and validate it as ``model``.

    ``sealed``: a record the tool wrote (``dump_model(seal=True)``); one whose seal does not
    match its content is refused, one whose seal matches is not checked for aliases again."""
    try:
        text = _read_capped(path, max_bytes)
    except FileNotFoundError:
        raise PersonaForgeError("file not found", file=path) from None
    except IsADirectoryError:
        raise PersonaForgeError("expected a file, found a folder", file=path) from None
    except UnicodeDecodeError:
        raise PersonaForgeError("file is not UTF-8 text", file=path) from None
    except OSError as exc:
        raise PersonaForgeError(f"cannot read file: {exc.strerror}", file=path) from None
    if sealed:
        problem = seal_problem(text)
        if problem is not None:
            raise PersonaForgeError(problem, file=path)
    try:
        if not (sealed and is_sealed(text)):
            _check_structure(text)
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


class _NoAliasDumper(_SafeDumper):  # type: ignore[misc,valid-type]
    """Never writes anchors or aliases: the loader refuses them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_model(model: BaseModel, path: Path, *, seal: bool = False) -> None:
    """Write ``model`` as YAML, atomically; ``seal`` appends a hash of the content (a record
    the tool will check before it trusts it again)."""
    data = model.model_dump(mode="json", exclude_none=True)
    text = yaml.dump(data, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=100)
    atomic_write_text(path, seal_text(text) if seal else text)
