"""The project folder: where the hand-written files and the recorded build/ live."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from personaforge.core.specs import FORMAT_SIZES, Persona, VideoSpec
from personaforge.core.yamlio import load_model
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import read_text, resolve_in_project

STAGES = ("plan", "speak", "lipsync", "render", "publish")
MANIFEST_NAMES = {
    "plan": "plan.yaml",
    "speak": "speech.yaml",
    "lipsync": "lipsync.yaml",
    "render": "render.yaml",
    "publish": "publish.yaml",
}


def first_heading(text: str) -> str | None:
    """The script's first Markdown heading, shortened at a word to fit a title."""
    import textwrap

    for line in text.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
            return textwrap.shorten(heading, 100, placeholder="…") if heading else None
    return None


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return slug[:60].strip("-") or "video"


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def open(cls, folder: str | Path) -> Project:
        root = Path(folder)
        if not root.exists():
            raise PersonaForgeError("project folder does not exist", file=root)
        if not root.is_dir():
            raise PersonaForgeError("expected a project folder, found a file", file=root)
        return cls(root)

    @classmethod
    def from_manifest(cls, manifest: str | Path, *, for_stage: str | None = None) -> Project:
        """The project a recorded manifest (``<project>/build/<stage>.yaml``) belongs to.

        With ``for_stage``, the manifest must be the one that stage reads: what a shell
        pipeline hands from each stage to the next.
        """
        path = Path(manifest)
        if not path.is_file():
            raise PersonaForgeError("manifest not found", file=path)
        if path.parent.name != "build" or path.name not in MANIFEST_NAMES.values():
            raise PersonaForgeError(
                "not a PersonaForge manifest (expected <project>/build/<stage>.yaml)", file=path
            )
        project = cls(path.parent.parent)
        if for_stage is not None and STAGES.index(for_stage) > 0:
            upstream = STAGES[STAGES.index(for_stage) - 1]
            if path.name != MANIFEST_NAMES[upstream]:
                raise PersonaForgeError(
                    f"expected the {upstream} manifest ({MANIFEST_NAMES[upstream]})", file=path
                )
        return project

    @property
    def persona_path(self) -> Path:
        return self.root / "persona.yaml"

    @property
    def video_path(self) -> Path:
        return self.root / "video.yaml"

    @property
    def build(self) -> Path:
        return self.root / "build"

    def manifest_path(self, stage: str) -> Path:
        return self.build / MANIFEST_NAMES[stage]

    def load_persona(self) -> Persona:
        return load_model(Persona, self.persona_path)

    def load_video(self) -> VideoSpec:
        video = load_model(VideoSpec, self.video_path)
        if not video.title.strip():
            # No title: the script's first heading, read each time, so editing it retitles.
            heading = first_heading(self.script_text(video))
            video = video.model_copy(update={"title": heading or self.root.resolve().name})
        return video

    def script_text(self, video: VideoSpec) -> str:
        if video.script_text is not None:
            text, field = video.script_text, "script_text"
        else:
            assert video.script is not None
            field = "script"
            path = resolve_in_project(self.root, video.script, file=self.video_path, field=field)
            text = read_text(path, source=self.video_path, field=field)
        if not text.strip():
            raise PersonaForgeError("the script is empty", file=self.video_path, field=field)
        return text

    def frame_size(self, video: VideoSpec) -> tuple[int, int]:
        if video.resolution:
            w, _, h = video.resolution.partition("x")
            return int(w), int(h)
        return FORMAT_SIZES[video.format]

    def environment(self) -> dict[str, str]:
        """The process environment over the project's .env (which the user creates).

        Read when a stage needs it, never at import time; a variable set (non-empty) in the
        environment wins over the file.
        """
        from dotenv import dotenv_values

        path = self.root / ".env"
        try:
            values = dotenv_values(path) if path.is_file() else {}
        except (OSError, UnicodeDecodeError) as exc:
            raise PersonaForgeError(f"cannot read .env: {exc}", file=path) from None
        merged = {k: v for k, v in values.items() if v is not None}
        for key, value in os.environ.items():
            if value or key not in merged:
                merged[key] = value
        return merged

    def rel(self, path: Path) -> str:
        """``path`` relative to the project, as recorded in manifests. Symlinks are not
        resolved: build/ may well be a link to a scratch disk."""
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(self.root))).as_posix()

    def path(self, rel: str, *, file: Path | None = None, field: str | None = None) -> Path:
        return resolve_in_project(self.root, rel, file=file, field=field)
