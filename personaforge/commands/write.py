"""write and wizard --describe: Claude drafts a script in the persona's voice, or proposes a
persona from a description; offline, a recipe's script skeleton."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from personaforge.core import recipes
from personaforge.core.project import Project
from personaforge.core.specs import Look, Persona, VideoSpec
from personaforge.costs import Billing
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_write_text
from personaforge.text.normalize import tokenize

_LENGTH = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*m(?:in)?)?\s*(?:(\d+(?:\.\d+)?)\s*s?)?\s*$")


def parse_length(text: str) -> float:
    """'60s', '90', '2m', '1m30s' as seconds."""
    m = _LENGTH.match(text.lower())
    if not m or not (m.group(1) or m.group(2)):
        raise PersonaForgeError(f"{text!r} is not a length like 60s, 2m or 1m30s", field="length")
    seconds = float(m.group(1) or 0) * 60 + float(m.group(2) or 0)
    if not 5 <= seconds <= 3600:
        raise PersonaForgeError("the length must be between 5 s and 60 min", field="length")
    return seconds


@dataclass
class Written:
    path: Path
    source: str  # "claude" or "skeleton"
    recipe: str
    words: int
    billing: list[Billing] = field(default_factory=list)


def _environment(folder: Path) -> Mapping[str, str]:
    return Project(folder).environment() if folder.is_dir() else dict(os.environ)


def _video(project: Project) -> VideoSpec | None:
    return project.load_video() if project.video_path.is_file() else None


def write_script(
    folder: Path,
    *,
    topic: str | None,
    recipe: str | None = None,
    length_s: float | None = None,
    force: bool = False,
    env: Mapping[str, str] | None = None,
) -> Written:
    """Draft the project's script (Claude with ``topic``; the recipe's skeleton without)."""
    from personaforge.commands.init import make_persona

    if topic is None and recipe is None:
        raise PersonaForgeError(
            "give --topic (Claude drafts the script) or --recipe (its skeleton, offline)"
        )
    if topic is not None and not topic.strip():
        raise PersonaForgeError("the topic is empty", field="topic")
    project = Project(folder)
    if folder.exists() and not folder.is_dir():
        raise PersonaForgeError("expected a folder, found a file", file=folder)
    video = _video(project)
    persona = project.load_persona() if project.persona_path.is_file() else make_persona("Ava")
    target = folder / "script.md"
    if video is not None and video.script is not None:
        target = project.path(video.script, file=project.video_path, field="script")
    if target.exists() and not force:
        raise PersonaForgeError(
            "the script already exists (use --force to replace it)", file=target
        )
    chosen = recipes.load(
        recipe or (video.recipe if video else None) or recipes.DEFAULT_RECIPE,
        folder if folder.is_dir() else None,
    )
    title = (video.title if video else None) or (topic.strip() if topic else "") or "My video"
    variables: dict[str, Any] = {
        "title": title,
        "format": video.format if video else chosen.spec.format,
        "persona": recipes.persona_context(persona),
    }
    billing: list[Billing] = []
    if topic is None:
        text = chosen.render(f"{recipes.FILES_DIR}/script.md.j2", variables)
        source = "skeleton"
    else:
        from personaforge.backends.claude import DEFAULT_MODEL, Claude

        seconds = (
            length_s or (chosen.spec.target_length.min_s + chosen.spec.target_length.max_s) / 2
        )
        system = chosen.render(
            recipes.WRITER_TEMPLATE,
            {
                **variables,
                "topic": topic.strip(),
                "length_s": round(seconds),
                "words": chosen.target_words(seconds),
            },
        )
        client = Claude(
            env if env is not None else _environment(folder),
            model=video.director.model if video else DEFAULT_MODEL,
            max_tokens=video.director.max_tokens if video else 16000,
            what="Claude writer",
        )
        answer = client.ask_json(
            system=system,
            user=f"Topic: {topic.strip()}",
            schema={
                "type": "object",
                "properties": {"script": {"type": "string"}},
                "required": ["script"],
                "additionalProperties": False,
            },
            parse=_script_from,
        )
        text, billing, source = answer.value, answer.billing, "claude"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, text)
    return Written(target, source, chosen.name, len(text.split()), billing)


def _script_from(data: Any) -> str:
    if not isinstance(data, dict) or not isinstance(data.get("script"), str):
        raise ValueError('expected {"script": "..."}')
    text: str = data["script"].strip()
    if not any(tok.spoken for tok in tokenize(text)):
        raise ValueError("the script has no words to speak")
    return text + "\n"


# ---------------------------------------------------------------- wizard --describe


def _voices() -> list[str]:
    """The voices of the packaged piper backend: a proposal must be speakable offline."""
    from personaforge.backends.tts.piper import VOICES

    return sorted(VOICES)


@dataclass
class Proposal:
    persona: Persona
    billing: list[Billing] = field(default_factory=list)


def _persona_schema() -> dict[str, Any]:
    from personaforge.core.archetypes import ARCHETYPES

    colour = {"type": "string", "description": "#rrggbb"}
    colours = ["skin", "hair", "eyes", "shirt", "background", "accent"]
    look_fields = Look.model_fields
    hair_styles = list(getattr(look_fields["hair_style"].annotation, "__args__", ()))
    return {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "archetype": {"type": "string", "enum": list(ARCHETYPES)},
            "voice": {"type": "string", "enum": _voices()},
            "look": {
                "type": "object",
                "properties": {
                    **{c: colour for c in colours},
                    "hair_style": {"type": "string", "enum": hair_styles},
                    "glasses": {"type": "boolean"},
                },
                "required": [*colours, "hair_style", "glasses"],
                "additionalProperties": False,
            },
            "brain_prompt": {"type": "string"},
        },
        "required": ["name", "archetype", "voice", "look", "brain_prompt"],
        "additionalProperties": False,
    }


def _persona_from(data: Any) -> Persona:
    from personaforge.commands.init import make_persona

    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    try:
        persona = make_persona(
            str(data.get("name", "")),
            str(data.get("archetype", "")),
            str(data.get("voice", "")),
            data.get("look") if isinstance(data.get("look"), dict) else None,
        )
        brain = str(data.get("brain_prompt") or "").strip() or None
        return persona.model_copy(update={"brain_prompt": brain})
    except PersonaForgeError as exc:
        raise ValueError(str(exc)) from None


def propose_persona(
    description: str, *, folder: Path | None = None, env: Mapping[str, str] | None = None
) -> Proposal:
    """A persona Claude proposes from a description; nothing is written."""
    from personaforge.backends.claude import DEFAULT_MODEL, Claude
    from personaforge.core.archetypes import ARCHETYPES

    if not description.strip():
        raise PersonaForgeError("the description is empty", field="describe")
    model = DEFAULT_MODEL
    if folder is not None and (video := _video(Project(folder))) is not None:
        model = video.director.model
    schema = _persona_schema()
    system = recipes.render_template(
        recipes.shipped_folder(),
        "wizard.j2",
        {
            "archetypes": list(ARCHETYPES),
            "archetype_descriptions": {k: recipes.archetype_info(k)[0] for k in ARCHETYPES},
            "voices": _voices(),
            "hair_styles": schema["properties"]["look"]["properties"]["hair_style"]["enum"],
        },
    )
    client = Claude(
        env if env is not None else _environment(folder or Path(".")),
        model=model,
        max_tokens=8000,
        what="Claude wizard",
    )
    answer = client.ask_json(
        system=system, user=description.strip(), schema=schema, parse=_persona_from
    )
    # A bad persona would fail pydantic again here; keep it as validated.
    return Proposal(Persona.model_validate(answer.value.model_dump()), answer.billing)
