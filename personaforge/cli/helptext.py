"""--help in the words a user reads: DIR, FILE, N, TEXT for what each argument takes (not
Python's types, `<list[Path]>`), and each command's whole first sentence in the list."""

from __future__ import annotations

from typing import Any

# Arguments by name: what a user types there.
_ARGUMENTS = {"project": "DIR", "projects": "DIR", "folder": "DIR", "target": "DIR|VIDEO",
              "args": "ID"}  # fmt: skip
# Options whose values are a short list: the list itself.
_OPTIONS = {"format": "youtube|shorts|square", "fmt": "youtube|shorts|square",
            "platform": "PLATFORM", "backend": "BACKEND",
            "recipe": "RECIPE", "archetype": "ARCHETYPE", "look": "KEY=VALUE",
            "expires": "DURATION", "length": "DURATION", "max_cost": "USD", "redis": "URL",
            "cache": "URL", "queue": "NAME", "voice": "VOICE", "name": "NAME"}  # fmt: skip


def _metavar(param: Any) -> str:
    if param.name in _OPTIONS:
        return _OPTIONS[param.name]
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and getattr(desc, "is_path", False):
        return "PATH"
    kind = getattr(desc, "ranged_type_name", "") if desc is not None else ""
    bare = param.bare_type() if hasattr(param, "bare_type") else ""
    if "int" in (kind, bare) or bare == "list[int]":
        return "N"
    if "float" in (kind, bare):
        return "NUMBER"
    return "TEXT"


def _first_sentence(text: str | None) -> str:
    paragraph = (text or "").strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def plain_help(group: Any) -> None:
    """Set every command's short help and every parameter's metavar (Typer's own show the
    annotation: `project <str>` in one command, `project <path>` in the next)."""
    for command in getattr(group, "commands", {}).values():
        plain_help(command)
        if command.short_help is None:
            command.short_help = _first_sentence(command.help)
        for param in command.params:
            if param.param_type_name == "argument":
                if param.metavar is None:
                    param.metavar = _ARGUMENTS.get(param.name, param.name.upper())
                # Typer adds the annotation after the name; the metavar says it all.
                param.display_type_rich = lambda ctx: None
            elif not getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = _metavar(param)
