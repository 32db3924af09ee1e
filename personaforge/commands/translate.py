"""`translate`: one script into sibling projects in other languages (DIR-es/, DIR-ja/), each
ready to render with a voice of its language.

Claude translates the script keeping its Markdown structure, shot markup, [pause] marks,
*emphasis*, numbers and names; a translation whose structure differs from the source is asked
again once, then one line. Translations are cached in the source's build/translations/ by the
hash of the source text, the target language and the model. A hand translation comes in with
``--from``, checked the same way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from personaforge.costs import Billing
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_write_text, sha256_bytes
from personaforge.text import languages

CACHE_DIR = "translations"
RECORD = "siblings.json"  # which languages translate made, and where: make-video reads it
_SKIP = {"build", ".env.example", "__pycache__"}
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s")
_MARKUP = re.compile(r"^\s*(!\[[^\]]*\]\([^)]*\)|<!--\s*[\w -]+)", re.I)
_PAUSE = re.compile(r"\[\s*pause[^\]]*\]", re.I)
_EMPHASIS = re.compile(r"(?<![*\w])\*[^*\s][^*]*\*(?![*\w])")
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")

SYSTEM = """You translate video scripts written in Markdown for a talking-presenter video tool.
Translate the script from {source} into {target}. Keep exactly, line for line:
- the Markdown structure: headings (# marks), paragraphs, lists, quotes (> lines);
- shot markup lines as written: image lines ![...](path) unchanged; HTML comments such as
  <!-- lower-third: Name | Role -->, <!-- transition: ... -->, <!-- captions: ... --> keep their
  keyword and path (translate only a role or an on-screen text after "text:");
- [pause] and [pause 0.5s] marks where they fall; *emphasis* around the translated word;
- every number as digits, and names of people, products and places.
Answer with JSON: {{"script": "<the translated Markdown>"}}."""


@dataclass
class Translated:
    language: str
    folder: Path
    cached: bool
    billing: list[Billing] = field(default_factory=list)


def skeleton(script: str) -> dict[str, Any]:
    """What a translation must keep: heading levels, shot markup, pauses, emphasis, numbers."""
    headings = [m.group(1) for line in script.splitlines() if (m := _HEADING.match(line))]
    markup = [
        re.sub(r"\s+", " ", m.group(1)).lower()
        if m.group(1).startswith("![")
        else m.group(1).split(":")[0].strip().lower()
        for line in script.splitlines()
        if (m := _MARKUP.match(line))
    ]
    return {
        "headings": headings,
        "markup": markup,
        "pauses": len(_PAUSE.findall(script)),
        "emphasis": len(_EMPHASIS.findall(script)),
        "numbers": Counter(n.replace(",", ".") for n in _NUMBER.findall(script)),
    }


def problem(source: str, translation: str) -> str:
    """What a translation lost of the source's structure ('' when nothing)."""
    a, b = skeleton(source), skeleton(translation)
    if a["headings"] != b["headings"]:
        return f"the headings differ ({len(a['headings'])} in the source, {len(b['headings'])})"
    if a["markup"] != b["markup"]:
        return "the shot markup differs (image lines and <!-- --> comments must stay as written)"
    if a["pauses"] != b["pauses"]:
        return f"[pause] marks: {a['pauses']} in the source, {b['pauses']} in the translation"
    if a["emphasis"] != b["emphasis"]:
        return f"*emphasis*: {a['emphasis']} in the source, {b['emphasis']} in the translation"
    if a["numbers"] != b["numbers"]:
        return "the numbers differ (keep every number as digits)"
    return ""


def sibling(folder: Path, code: str) -> Path:
    """Where the ``code`` version of the project lives: beside it, DIR-code."""
    return folder.parent / f"{folder.name}-{code}"


def _cache_path(build: Path, source: str, code: str, model: str) -> Path:
    key = sha256_bytes(f"{source}\0{code}\0{model}".encode())[:24]
    return build / CACHE_DIR / f"{code}-{key}.md"


def estimate(folder: Path, targets: list[str], *, model: str | None = None) -> list[Billing]:
    """What translating would bill (nothing for a cached translation); sends nothing. A
    translation is about as long as its source, plus the instructions."""
    from personaforge.core.project import Project
    from personaforge.costs import bill

    project = Project.open(str(folder))
    video = project.load_video()
    source = project.script_text(video)
    model = model or video.director.model
    out: list[Billing] = []
    for code in targets:
        lang = languages.get(code)
        if _cache_path(project.build, source, lang.code, model).is_file():
            continue
        tokens_in = round((len(SYSTEM) + len(source)) / 3.5)
        # Scripts in non-Latin scripts take more tokens per character.
        tokens_out = round(len(source) / (2.0 if lang.scripts != ("LATIN",) else 3.5))
        out.append(bill("anthropic", "input_token", tokens_in, model=model, estimated=True))
        out.append(bill("anthropic", "output_token", tokens_out, model=model, estimated=True))
    return out


def siblings(folder: Path) -> list[Path]:
    """The translations `translate` made of the project in ``folder``, in the table's order:
    the ones it recorded in build/translations/siblings.json whose video.yaml still says their
    language (a sibling deleted or re-purposed by hand drops out; folder names are not read)."""
    found = []
    root = folder.resolve()
    recorded = _recorded(root)
    for code in languages.LANGUAGES:
        if code not in recorded:
            continue
        candidate = (root / recorded[code].folder).resolve()
        video = candidate / "video.yaml"
        if video.is_file():
            try:
                data = yaml.safe_load(video.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError):
                continue
            if isinstance(data, dict) and languages.primary(str(data.get("language", ""))) == code:
                found.append(candidate)
    return found


@dataclass(frozen=True)
class Made:
    """What the record keeps of one translation: where it is, the source text's hash it was
    made from, and the model (None: written by hand)."""

    folder: str  # relative to the source project, so the pair can move together
    source_sha256: str
    model: str | None


def recorded(folder: Path) -> dict[str, Made]:
    """The translations `translate` made of the project in ``folder``, by language."""
    return _recorded(folder.resolve())


def source_sha256(folder: Path) -> str:
    """The hash of the project's script as the record compares it."""
    from personaforge.core.project import Project

    project = Project.open(str(folder))
    return sha256_bytes(project.script_text(project.load_video()).encode())


def _record_path(root: Path) -> Path:
    return root / "build" / CACHE_DIR / RECORD


def _recorded(root: Path) -> dict[str, Made]:
    try:
        data = json.loads(_record_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    made = data.get("siblings") if isinstance(data, dict) else None
    if not isinstance(made, dict):
        return {}
    out: dict[str, Made] = {}
    for code, entry in made.items():
        if isinstance(entry, dict) and isinstance(entry.get("folder"), str):
            model = entry.get("model")
            out[str(code)] = Made(entry["folder"], str(entry.get("source_sha256", "")),
                                  model if isinstance(model, str) else None)  # fmt: skip
    return out


def _record(root: Path, code: str, target: Path, source: str, model: str | None) -> None:
    made = {k: vars(v) for k, v in _recorded(root).items()}
    made[code] = vars(Made(os.path.relpath(target, root), sha256_bytes(source.encode()), model))
    body = {"schema_version": 1, "siblings": dict(sorted(made.items()))}
    atomic_write_text(_record_path(root), json.dumps(body, indent=2) + "\n")


def translate(
    folder: Path,
    targets: list[str],
    *,
    env: Mapping[str, str],
    from_file: Path | None = None,
    model: str | None = None,
) -> list[Translated]:
    from personaforge.core.project import Project

    project = Project.open(str(folder))
    video = project.load_video()
    persona = project.load_persona()
    source_lang = languages.get(video.language or persona.language or languages.DEFAULT)
    if video.script is None:
        raise PersonaForgeError(
            "translate needs the script in a file", file=project.video_path, field="script"
        )
    source = project.script_text(video)
    wanted = [languages.get(code) for code in targets]
    if from_file is not None and len(wanted) != 1:
        raise PersonaForgeError("--from gives one translation: name one language with --to")
    model = model or video.director.model
    out: list[Translated] = []
    client = None
    for lang in wanted:
        if lang.code == source_lang.code:
            raise PersonaForgeError(f"the script is already in {lang.name}")
        cache = _cache_path(project.build, source, lang.code, model)
        billing: list[Billing] = []
        cached = False
        if from_file is not None:
            text = _read(from_file)
            lost = problem(source, text)
            if lost:
                raise PersonaForgeError(f"the translation does not fit the script: {lost}",
                                        file=from_file)  # fmt: skip
        elif cache.is_file():
            text, cached = cache.read_text(encoding="utf-8"), True
        else:
            if client is None:
                client = _client(env, model)
            text, billing = _ask(client, source, source_lang, lang)
            atomic_write_text(cache, text)
        made = _write_sibling(project, video, lang, text)
        by = None if from_file is not None else model
        _record(project.root.resolve(), lang.code, made, source, by)
        out.append(Translated(lang.code, made, cached, billing))
    return out


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PersonaForgeError(f"cannot read the translation: {exc}", file=path) from None


def _client(env: Mapping[str, str], model: str) -> Any:
    from personaforge.backends.claude import KEY, Claude

    if not env.get(KEY, "").strip():
        raise PersonaForgeError(
            f"translate needs the Claude backend ({KEY} is not set)",
            hint=f"export {KEY}=... (pip install 'personaforge[claude]'), or give a hand "
            "translation with --from DIR-xx/script.md",
        )
    return Claude(env, model=model, max_tokens=16000, what="translate")


def _ask(
    client: Any, source: str, source_lang: languages.Language, lang: languages.Language
) -> tuple[str, list[Billing]]:
    def parse(data: Any) -> str:
        text = data.get("script") if isinstance(data, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ValueError('answer {"script": "..."} with the translated Markdown')
        lost = problem(source, text)
        if lost:
            raise ValueError(f"{lost}; translate again keeping the structure line for line")
        return text

    schema = {
        "type": "object",
        "properties": {"script": {"type": "string"}},
        "required": ["script"],
        "additionalProperties": False,
    }
    answer = client.ask_json(
        system=SYSTEM.format(source=source_lang.name, target=lang.name),
        user=source,
        schema=schema,
        parse=parse,
    )
    text: str = answer.value
    return (text if text.endswith("\n") else text + "\n"), list(answer.billing)


def _write_sibling(project: Any, video: Any, lang: languages.Language, text: str) -> Path:
    """The sibling project: the source's files (not its build), the translated script, and
    video.yaml saying its language."""
    target: Path = sibling(project.root, lang.code)
    target.mkdir(parents=True, exist_ok=True)
    for item in project.root.iterdir():
        if item.name in _SKIP or item.name == video.script:
            continue
        dest = target / item.name
        if item.is_dir():
            shutil.copytree(item, dest, dirs_exist_ok=True)
        elif item.name != project.video_path.name:
            shutil.copy2(item, dest)
    atomic_write_text(target / str(video.script), text)
    data = yaml.safe_load(project.video_path.read_text(encoding="utf-8")) or {}
    data["language"] = lang.code
    dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    atomic_write_text(target / project.video_path.name, dumped)
    return target
