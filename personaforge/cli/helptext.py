"""--help in the words a user reads: DIR, FILE, N, TEXT for what each argument takes (not
Python's types, `<list[Path]>`), and each command's whole first sentence in the list; and the
values shell completion offers for the options that take one of a few names."""

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


def _formats() -> list[str]:
    from personaforge.core.specs import FORMAT_SIZES

    return list(FORMAT_SIZES)


def _recipes() -> list[str]:
    from personaforge.core import recipes

    return recipes.names()


def _archetypes() -> list[str]:
    from personaforge.core.archetypes import ARCHETYPES

    return list(ARCHETYPES)


def _backends() -> list[str]:
    from personaforge.backends.registry import names

    return list(names("speak"))


def _platforms() -> list[str]:
    from personaforge.delivery.rules import PLATFORMS

    return list(PLATFORMS)


# Options (by parameter name) whose values completion offers, each from where it is defined.
_COMPLETE = {"fmt": _formats, "format": _formats, "recipe": _recipes,
             "archetype": _archetypes, "backend": _backends, "platform": _platforms}  # fmt: skip


def _completer(values: Any) -> Any:
    def complete(ctx: Any, param: Any, incomplete: str) -> list[str]:
        return [v for v in values() if v.startswith(incomplete)]

    return complete


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
            elif not getattr(param, "is_flag", False):
                if param.metavar is None:
                    param.metavar = _metavar(param)
                if param.name in _COMPLETE and param._custom_shell_complete is None:
                    param._custom_shell_complete = _completer(_COMPLETE[param.name])
