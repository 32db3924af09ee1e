"""What the user writes: persona.yaml and video.yaml, as pydantic models (what the tool records
is in ``manifests.py``)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Any, Final, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from personaforge.core.suffixes import IMAGE_SUFFIXES
from personaforge.text import languages

SCHEMA_VERSION: Final = 1

Format = Literal["youtube", "shorts", "square"]
FORMAT_SIZES: dict[str, tuple[int, int]] = {
    "youtube": (1920, 1080),
    "shorts": (1080, 1920),
    "square": (1080, 1080),
}
FPS = 30

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
PHOTO_SUFFIXES: Final = IMAGE_SUFFIXES  # a persona's photo is any picture we read


def _inside_project(v: str) -> str:
    p = PurePosixPath(v)
    if not v or p.is_absolute() or ".." in p.parts or "\\" in v:
        raise ValueError(f"{v!r} must be a relative path inside the project folder")
    return v


# A path recorded or written in a manifest: relative to the project, never escaping it.
RelPath = Annotated[str, AfterValidator(_inside_project)]


def _takes(ann: Any, kinds: tuple[type, ...]) -> bool:
    """Whether the annotation ``ann`` accepts a value of one of ``kinds`` (through unions,
    Optional, Annotated and Literal)."""
    if ann in kinds:
        return True
    if get_origin(ann) is Literal:
        return any(type(a) in kinds for a in get_args(ann))
    if get_origin(ann) in (list, dict, tuple):
        return False  # a container's items are checked where they are fields of their own
    return any(_takes(a, kinds) for a in get_args(ann))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, v: Any, info: ValidationInfo) -> Any:
        # YAML's true/false are 1/0 to pydantic's lax numbers: `speed: true` read as 1.0.
        if isinstance(v, bool) and info.field_name is not None:
            ann = cls.model_fields[info.field_name].annotation
            if _takes(ann, (int, float)) and not _takes(ann, (bool,)):
                raise ValueError(f"expected a number, not {str(v).lower()}")
        return v


def _color(v: str) -> str:
    if not _HEX.match(v):
        raise ValueError(f"{v!r} is not a colour like '#1a2b3c'")
    return v.lower()


# ---------------------------------------------------------------- what the user writes


# Settings only one voice backend understands; elsewhere they are errors, not silently ignored.
ELEVENLABS_ONLY = ("model", "stability", "similarity_boost", "style", "use_speaker_boost", "seed")
PIPER_ONLY = ("variation",)
ELEVENLABS_SPEED = (0.7, 1.2)  # the range the API accepts
ELEVENLABS_DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"  # "Rachel", a premade voice every account has


class Voice(Strict):
    backend: str = "piper"
    voice: str = Field(
        default="joe",
        description="piper: a bundled voice (joe); elevenlabs: a voice id, or a voice name "
        "resolved once through the voices API.",
    )
    speed: float = Field(default=1.0, ge=0.5, le=2.0, description="Speaking rate, 1.0 is normal.")
    # piper
    variation: float | None = Field(
        default=None, ge=0.0, le=1.0, description="piper: how much the delivery varies (0..1)."
    )
    # elevenlabs
    model: str | None = Field(default=None, description="elevenlabs: eleven_multilingual_v2.")
    stability: float | None = Field(default=None, ge=0.0, le=1.0)
    similarity_boost: float | None = Field(default=None, ge=0.0, le=1.0)
    style: float | None = Field(default=None, ge=0.0, le=1.0)
    use_speaker_boost: bool | None = None
    seed: int | None = Field(default=None, ge=0, le=4294967295)

    @field_validator(*ELEVENLABS_ONLY, *PIPER_ONLY)
    @classmethod
    def _for_backend(cls, v: object, info: ValidationInfo) -> object:
        backend = info.data.get("backend", "piper")
        owner = "elevenlabs" if info.field_name in ELEVENLABS_ONLY else "piper"
        if v is not None and backend != owner:
            raise ValueError(f"only for backend: {owner} (this voice uses {backend})")
        return v

    @field_validator("speed")
    @classmethod
    def _speed(cls, v: float, info: ValidationInfo) -> float:
        lo, hi = ELEVENLABS_SPEED
        if info.data.get("backend") == "elevenlabs" and not lo <= v <= hi:
            raise ValueError(f"elevenlabs accepts a speed from {lo} to {hi}")
        return v


class Look(Strict):
    skin: str = "#e0ac69"
    hair: str = "#3b2a1a"
    hair_style: Literal["short", "long", "bun", "bald"] = "short"
    eyes: str = "#3a5f8f"
    shirt: str = "#2f6fd6"
    background: str = "#1d2b3a"
    accent: str = "#f5b700"
    glasses: bool = False
    photo: RelPath | None = Field(
        default=None,
        description="A portrait (JPEG, PNG or WebP, inside the project) to animate instead of "
        "the drawn avatar; the colours above still style title cards.",
    )

    _check = field_validator("skin", "hair", "eyes", "shirt", "background", "accent")(_color)

    @field_validator("photo")
    @classmethod
    def _photo(cls, v: str | None) -> str | None:
        if v is not None and PurePosixPath(v).suffix.lower() not in PHOTO_SUFFIXES:
            raise ValueError(f"{v!r} is not a JPEG, PNG or WebP file")
        return v

    @model_serializer(mode="wrap")
    def _without_absent_photo(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A drawn look dumps (and hashes) exactly as it did before photos existed: no
        # `photo: null` in written persona.yaml files, no cache invalidated.
        data: dict[str, Any] = handler(self)
        if data.get("photo") is None:
            data.pop("photo", None)
        return data


class Persona(Strict):
    """persona.yaml: who speaks."""

    schema_version: Literal[1] = SCHEMA_VERSION
    name: str = Field(min_length=1, max_length=80)
    archetype: str = Field(default="narrator", min_length=1, max_length=40)
    voice: Voice = Field(default_factory=Voice)
    look: Look = Field(default_factory=Look)
    brain_prompt: str | None = Field(
        default=None,
        max_length=4000,
        description="How this persona thinks and talks; shapes the Claude director and writer "
        "(default: the archetype's).",
    )
    pronunciations: dict[str, str] | None = Field(
        default=None,
        description="Say a word differently, e.g. {SQL: sequel}; captions keep the written form.",
    )
    language: Annotated[str | None, AfterValidator(_language)] = Field(
        default=None,
        description="The language this persona speaks when video.yaml names none (BCP-47).",
    )
    language_pronunciations: dict[str, dict[str, str]] | None = Field(
        default=None,
        description="Pronunciations per language, e.g. {es: {SQL: ese cu ele}}; a script in "
        "another language than the persona's uses only its own entry.",
    )

    @field_validator("language_pronunciations")
    @classmethod
    def _language_pronunciations(
        cls, v: dict[str, dict[str, str]] | None
    ) -> dict[str, dict[str, str]] | None:
        for code, said in (v or {}).items():
            _language(code)
            cls._pronunciations(said)
        return v

    def pronunciations_for(self, language: str) -> dict[str, str]:
        """The pronunciations a script in ``language`` uses: the persona's own only in its
        own language (an English respelling would be read with Spanish rules), and that
        language's entry."""
        own = languages.primary(self.language or languages.DEFAULT)
        code = languages.primary(language)
        base = dict(self.pronunciations or {}) if code == own else {}
        by_language = {
            languages.primary(k): v for k, v in (self.language_pronunciations or {}).items()
        }
        return {**base, **by_language.get(code, {})}

    @field_validator("archetype")
    @classmethod
    def _archetype(cls, v: str) -> str:
        import difflib

        from personaforge.core.archetypes import ARCHETYPES  # it imports this module

        if v not in ARCHETYPES:
            guess = difflib.get_close_matches(v, list(ARCHETYPES), n=1)
            hint = f"did you mean {guess[0]!r}?" if guess else "one of " + ", ".join(ARCHETYPES)
            raise ValueError(f"unknown archetype {v!r}; {hint}")
        return v

    @field_validator("pronunciations")
    @classmethod
    def _pronunciations(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        for word, say in (v or {}).items():
            if not word.strip() or len(word.split()) != 1:
                raise ValueError(f"{word!r}: a key must be one written word")
            if not say.strip():
                raise ValueError(f"{word!r}: say it somehow (the value is empty)")
        return v


class Backends(Strict):
    plan: str = "offline"
    speak: str | None = Field(default=None, description="Defaults to the persona's voice backend.")
    lipsync: str | None = Field(
        default=None,
        description="Default: 'photo' when the persona's look is a photo, else 'avatar'.",
    )


class Music(Strict):
    file: RelPath
    volume: float = Field(default=0.25, ge=0.0, le=1.0)
    duck: bool = Field(default=True, description="Lower the music under the voice.")


class Captions(Strict):
    burn: bool = True
    style: Literal["karaoke", "clean", "bold-pop", "boxed"] = Field(
        default="karaoke",
        description="karaoke: the spoken word lights up; clean: plain; bold-pop: one to three "
        "big words at a time in the centre (Shorts); boxed: on a background box.",
    )
    max_lines: int = Field(default=2, ge=1, le=2)
    max_chars_per_line: int | None = Field(default=None, ge=10, le=80)


class Narration(Strict):
    """A recorded take that narrates the video instead of a synthetic voice."""

    file: RelPath | None = Field(
        default=None, description="The take for the whole script (WAV, FLAC, MP3, M4A, OGG)."
    )
    files: dict[str, RelPath] = Field(
        default_factory=dict,
        description="One take per heading, for creators who record in parts: "
        '{"Intro": intro.m4a}; the script before the first heading, and headings not '
        "listed, use `file`.",
    )
    clean: bool = Field(default=False, description="High-pass and denoise the take (ffmpeg).")
    align: Literal["offline", "elevenlabs"] = Field(
        default="offline", description="Who finds the script's words in the take."
    )

    @model_validator(mode="after")
    def _some_take(self) -> Narration:
        if self.file is None and not self.files:
            raise ValueError("give 'file' (one take) or 'files' (one per heading)")
        return self


class Transitions(Strict):
    """How shots follow each other, unless the script says otherwise at a cut."""

    style: Literal["cut", "crossfade", "dip"] = "cut"
    duration_s: float = Field(default=0.5, ge=0.1, le=2.0)
    colour: str = Field(default="#000000", description="dip: the colour passed through.")

    _check = field_validator("colour")(_color)


Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]


class Logo(Strict):
    file: RelPath = Field(description="An image (PNG with transparency works best).")
    corner: Corner = "top-left"
    size: float = Field(default=0.12, gt=0.0, le=0.5, description="Width, of the frame's.")
    opacity: float = Field(default=0.9, ge=0.0, le=1.0)


class Bumper(Strict):
    """An intro or outro: a card with a line of text, or a clip from the project."""

    card: str | None = Field(default=None, min_length=1, max_length=120)
    clip: RelPath | None = None
    duration_s: float = Field(default=2.0, ge=0.5, le=10.0, description="A card's length.")

    @model_validator(mode="after")
    def _one(self) -> Bumper:
        if (self.card is None) == (self.clip is None):
            raise ValueError("give exactly one of 'card' (text) or 'clip' (a video file)")
        return self


class Brand(Strict):
    """brand.yaml, or a brand: block in video.yaml: the look every shot kind shares."""

    schema_version: Literal[1] = SCHEMA_VERSION
    background: str | None = Field(default=None, description="Cards; default: the persona's.")
    accent: str | None = Field(default=None, description="Bars, highlights, the inset's frame.")
    text: str = "#ffffff"
    font: RelPath | None = Field(default=None, description="A .ttf/.otf font file.")
    logo: Logo | None = None
    intro: Bumper | None = None
    outro: Bumper | None = None

    @field_validator("background", "accent", "text")
    @classmethod
    def _colours(cls, v: str | None) -> str | None:
        return None if v is None else _color(v)


class Loudness(Strict):
    """Two-pass loudness normalisation of the final mix (EBU R128)."""

    target_lufs: float = Field(
        default=-14.0, ge=-40.0, le=-5.0, description="Integrated loudness; -14 for streaming."
    )
    true_peak_db: float = Field(
        default=-1.0, ge=-9.0, le=0.0, description="Ceiling for the true peak, in dBTP."
    )


class Publish(Strict):
    target: str = Field(
        default="local", description="'local' (published/ in the project) or 's3://bucket/prefix'."
    )

    @field_validator("target")
    @classmethod
    def _target(cls, v: str) -> str:
        if v in ("local", "r2", "s3://") or re.match(r"^s3://[a-z0-9][a-z0-9.\-]{1,62}(/.*)?$", v):
            return v
        raise ValueError("must be 'local', 's3://bucket/prefix', or 'r2' (bucket from R2_BUCKET)")


def _language(v: str | None) -> str | None:
    """A BCP-47 tag of a language in the table (text/languages.py), as written."""
    if v is not None:
        try:
            languages.get(v)
        except Exception as exc:
            raise ValueError(str(exc)) from None
    return v


def _s3_url(v: str | None) -> str | None:
    if v is None or re.match(r"^s3://[a-z0-9][a-z0-9.\-]{1,62}(/.*)?$", v):
        return v
    raise ValueError("must be 's3://bucket/prefix'")


class Director(Strict):
    """The Claude director and writer (``backends: {plan: claude}``, ``personaforge write``)."""

    model: str = Field(default="claude-sonnet-5-5", min_length=1, max_length=100)
    max_tokens: int = Field(
        default=16000, ge=256, le=64000, description="Room for the answer and any thinking."
    )


class VideoSpec(Strict):
    """video.yaml: what to make."""

    schema_version: Literal[1] = SCHEMA_VERSION
    title: str = Field(
        default="",
        max_length=200,
        description="Default: the script's first heading (else the project folder's name).",
    )
    script: RelPath | None = Field(
        default=None, description="Path of the script file (Markdown or text)."
    )
    script_text: str | None = Field(
        default=None, description="The script inline, instead of a file."
    )
    format: Format = "youtube"
    language: Annotated[str | None, AfterValidator(_language)] = Field(
        default=None,
        description="The script's language, BCP-47 (en, es, pt-BR, ja); default: the "
        "persona's, else en.",
    )
    resolution: str | None = Field(
        default=None,
        description="Override the format's frame size, e.g. '640x360' for quick previews.",
    )
    quality: Literal["draft", "master"] = Field(
        default="draft",
        description="draft: fast previews, small files; master: what a platform takes for "
        "upload (YouTube's recommended bitrates, e.g. 8 Mb/s at 1080p30, AAC 384 kb/s).",
    )
    backends: Backends = Field(default_factory=Backends)
    music: Music | None = None
    captions: Captions = Field(default_factory=Captions)
    loudness: Loudness = Field(default_factory=Loudness)
    transitions: Transitions = Field(default_factory=Transitions)
    brand: Brand | None = Field(default=None, description="Or a brand.yaml beside video.yaml.")
    publish: Publish = Field(default_factory=Publish)
    max_concurrency: int = Field(
        default=2, ge=1, le=16, description="Shots voiced at once by a cloud voice (the plan's)."
    )
    cache: Annotated[str | None, AfterValidator(_s3_url)] = Field(
        default=None,
        description="Shared shot cache, 's3://bucket/prefix': speech and clips made on any "
        "machine are fetched from there instead of being made (and paid for) again.",
    )
    recipe: str | None = Field(
        default=None,
        description="The recipe whose prompts the Claude director and writer use "
        "(default: explainer).",
    )
    director: Director = Field(default_factory=Director)
    narration: Narration | None = Field(
        default=None, description="A recorded take to narrate with, instead of a voice."
    )
    budget: float | None = Field(
        default=None, ge=0, description="Refuse a run whose estimated cost (USD) exceeds this."
    )

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, v: str | None) -> str | None:
        if v is None:
            return v
        m = re.match(r"^(\d{2,4})x(\d{2,4})$", v)
        if not m or int(m.group(1)) % 2 or int(m.group(2)) % 2:
            raise ValueError("must be WIDTHxHEIGHT with even numbers, e.g. '640x360'")
        if not all(64 <= int(side) <= 4096 for side in m.groups()):
            raise ValueError("each side must be between 64 and 4096 pixels")
        return v

    def for_format(self, fmt: str) -> VideoSpec:
        """This video in another format (make-video --format): a ``resolution`` (a preview
        size) keeps its shorter side, in the new format's shape: 640x360 as shorts is
        360x640. Without one, the format's own size."""
        if fmt == self.format or self.resolution is None:
            return self.model_copy(update={"format": fmt})
        w, _, h = self.resolution.partition("x")
        side = min(int(w), int(h))
        fw, fh = FORMAT_SIZES[fmt]
        scale = side / min(fw, fh)
        size = (max(64, round(fw * scale / 2) * 2), max(64, round(fh * scale / 2) * 2))
        return self.model_copy(update={"format": fmt, "resolution": f"{size[0]}x{size[1]}"})

    @model_validator(mode="after")
    def _one_script(self) -> VideoSpec:
        if (self.script is None) == (self.script_text is None):
            raise ValueError("give exactly one of 'script' (a file) or 'script_text'")
        return self


# ---------------------------------------------------------------- what stages record


def spoken_language(video: VideoSpec, persona: Persona) -> str:
    """The language a video is said in: video.yaml's, else the persona's, else English."""
    return video.language or persona.language or languages.DEFAULT
