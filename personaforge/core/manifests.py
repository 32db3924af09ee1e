"""What the stages record: one manifest model per stage under ``build/`` (what the user writes
is in ``specs.py``)."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field, model_validator

from personaforge.core.specs import FPS, SCHEMA_VERSION, RelPath, Strict
from personaforge.costs import Billing

# ``billing`` is how the content was paid for, not the content: a re-run that yields the same
# shots must not cascade downstream.
_HEADER_FIELDS = {"schema_version", "stage", "key", "inputs", "backend", "backend_version",
                  "tool_version", "billing"}  # fmt: skip


class Recorded(Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    stage: str
    key: str = Field(description="Hash of every input and setting this manifest came from.")
    backend: str = ""
    backend_version: str = ""
    tool_version: str = ""
    inputs: dict[str, str] = Field(
        default_factory=dict, description="Hash of each input; `key` is the hash of them all."
    )

    def outputs(self) -> list[tuple[str, str]]:
        """(path, sha256) of each local file this stage made; checked before a skip."""
        return []

    def content_hash(self) -> str:
        """Hash of what this stage produced, without how it was keyed: downstream stages key
        on it, so a re-run that yields the same content does not cascade, and one that yields
        different content (a re-synthesised voice) always does."""
        from personaforge.fsutil import canonical_hash

        return canonical_hash(self.model_dump(mode="json", exclude=_HEADER_FIELDS))


# talking: the persona speaks; title: a heading card; broll: a still (slow Ken Burns move) or
# video from the project, voice over; pip: b-roll full frame with the persona in a corner;
# lower_third: the talking head with a name and role strap; quote: the quote on a card.
ShotKind = Literal["talking", "title", "broll", "pip", "lower_third", "quote"]
# The kinds that are text on a card, with no picture of their own.
CARD_KINDS: Final = frozenset({"title", "quote"})
# Kinds with the persona on screen, made by the lip-sync backend (a paid cloud one, maybe);
# the others are drawn by the render itself.
PERSONA_KINDS: Final = frozenset({"talking", "lower_third", "pip"})


class PlannedShot(Strict):
    id: str
    kind: ShotKind
    text: str
    emotion: str = "neutral"
    camera: str = "static"
    on_screen_text: str | None = Field(
        default=None, description="Short text the director wants shown on screen with the shot."
    )
    broll: RelPath | None = Field(
        default=None, description="broll/pip: the image or video file, relative to the project."
    )
    name: str | None = Field(
        default=None, max_length=80, description="lower_third: the name; quote: who said it."
    )
    role: str | None = Field(default=None, max_length=80, description="lower_third: the role.")
    transition: Literal["cut", "crossfade", "dip"] | None = Field(
        default=None, description="How this shot follows the one before; None: video.yaml's."
    )
    captions: Literal["karaoke", "clean", "bold-pop", "boxed"] | None = Field(
        default=None, description="This shot's caption style; None: video.yaml's."
    )


class PlanManifest(Recorded):
    stage: Literal["plan"] = "plan"
    title: str
    slug: str
    shots: list[PlannedShot]
    billing: list[Billing] = Field(
        default_factory=list, description="What planning was billed (the Claude director's tokens)."
    )


class Word(Strict):
    text: str
    start: float
    end: float


class VisemeKey(Strict):
    t: float
    v: str


class EmotionPoint(Strict):
    t: float
    emotion: str
    intensity: float = Field(ge=0.0, le=1.0)


class SpokenShot(PlannedShot):
    """A planned shot with its speech; ``key`` hashes what made the audio (text, voice)."""

    key: str
    spoken: str
    audio: RelPath
    audio_sha256: str
    duration_s: float
    frames: int
    words: list[Word]
    visemes: list[VisemeKey]
    billing: list[Billing] = Field(
        default_factory=list, description="What making this shot's audio was billed, if paid."
    )
    emotion_curve: list[EmotionPoint] = Field(
        default_factory=list, description="The VoiceDirector's emotion over the shot's time."
    )
    delivery: dict[str, float | bool | str] = Field(
        default_factory=dict, description="How the VoiceDirector asked the voice to speak."
    )
    context: str | None = Field(
        default=None, description="Hash of the neighbouring text sent for prosody, if any."
    )
    language: str = Field(default="en", description="The language the shot was voiced in.")

    def media(self) -> list[tuple[str, str]]:
        return [(self.audio, self.audio_sha256)]

    @model_validator(mode="after")
    def _times_in_range(self) -> SpokenShot:
        # A recorded time outside the shot (word `start: 999`) silently dropped its captions.
        if not 0 <= self.duration_s <= MAX_SHOT_S:
            raise ValueError(f"duration_s {self.duration_s} is not within 0-{MAX_SHOT_S:g} s")
        limit = self.duration_s + TIME_SLACK_S
        for i, w in enumerate(self.words):
            if not (0 <= w.start <= w.end + TIME_SLACK_S and w.end <= limit):
                raise ValueError(
                    f"words[{i}] ({w.text!r}) is timed {w.start:g}-{w.end:g} s, "
                    f"outside the shot's {self.duration_s:g} s"
                )
        if any(not 0 <= k.t <= limit for k in self.visemes):
            raise ValueError(f"a viseme is timed outside the shot's {self.duration_s:g} s")
        return self


# Sanity limits on recorded times: a shot is a sentence or two (the planner splits at 35
# words), and word timings may run a little past the audio's end.
MAX_SHOT_S: Final = 600.0
TIME_SLACK_S: Final = 1.0


class SpeechManifest(Recorded):
    stage: Literal["speak"] = "speak"
    sample_rate: int
    fps: int = FPS
    shots: list[SpokenShot]

    def outputs(self) -> list[tuple[str, str]]:
        return [m for s in self.shots for m in s.media()]


class Clip(Strict):
    id: str
    key: str
    kind: ShotKind
    clip: RelPath
    clip_sha256: str
    frames: int
    billing: list[Billing] = Field(
        default_factory=list, description="What making this clip was billed, if paid."
    )
    pieces: dict[str, str] = Field(
        default_factory=dict,
        description="Files made with the clip (the frames a transition blends): path -> sha256.",
    )
    source: RelPath | None = Field(
        default=None,
        description="The paid clip the segment was made from (a cloud lip-sync's), kept so "
        "that a caption change re-encodes it without paying again; not needed to reuse it.",
    )

    def media(self) -> list[tuple[str, str]]:
        return [(self.clip, self.clip_sha256), *self.pieces.items()]


class Segment(Strict):
    """One piece of the final video, in playback order: a shot's segment or a transition."""

    key: str = ""
    path: RelPath
    sha256: str
    frames: int

    def media(self) -> list[tuple[str, str]]:
        return [(self.path, self.sha256)]


class LipsyncManifest(Recorded):
    stage: Literal["lipsync"] = "lipsync"
    width: int
    height: int
    fps: int = FPS
    shots: list[Clip]
    segments: list[Segment] = Field(
        default_factory=list,
        description="What render joins, in order: each shot's segment, transitions between.",
    )
    intro_frames: int = Field(default=0, description="Frames of the brand's intro, if any.")

    def outputs(self) -> list[tuple[str, str]]:
        return [m for c in self.shots for m in c.media()] + [
            m for s in self.segments for m in s.media()
        ]


class Output(Strict):
    path: RelPath
    sha256: str


class RenderManifest(Recorded):
    stage: Literal["render"] = "render"
    slug: str
    video: Output
    captions_vtt: Output
    captions_srt: Output
    width: int
    height: int
    fps: int
    duration_s: float
    thumbnail: Output | None = Field(default=None, description="<slug>.jpg, for the platform.")
    chapters: Output | None = Field(
        default=None, description="<slug>.chapters.txt: YouTube's '0:00 Title' lines."
    )
    chapters_note: str | None = Field(
        default=None, description="Why there is no chapters file, where there is none."
    )

    def deliverables(self) -> list[Output]:
        """Every file a publisher uploads: the video, its captions, thumbnail and chapters."""
        extra = [o for o in (self.thumbnail, self.chapters) if o is not None]
        return [self.video, self.captions_vtt, self.captions_srt, *extra]

    def outputs(self) -> list[tuple[str, str]]:
        return [(o.path, o.sha256) for o in self.deliverables()]


class PublishedFile(Strict):
    name: str
    sha256: str
    url: str = Field(description="What a viewer opens: a public or presigned URL, or file://.")
    location: str | None = Field(
        default=None, description="The object's stable address (s3://bucket/key)."
    )
    expires_at: float | None = Field(
        default=None, description="When a presigned url stops working (Unix time)."
    )


class PublishManifest(Recorded):
    stage: Literal["publish"] = "publish"
    target: str
    files: list[PublishedFile]


MANIFEST_MODELS: dict[str, type[Recorded]] = {
    "plan": PlanManifest,
    "speak": SpeechManifest,
    "lipsync": LipsyncManifest,
    "render": RenderManifest,
    "publish": PublishManifest,
}
