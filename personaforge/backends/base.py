"""The Protocol each backend kind satisfies. Backends never import Typer or Rich."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from personaforge.core.manifests import PlannedShot
from personaforge.core.specs import Look, Persona
from personaforge.costs import Billing
from personaforge.errors import PersonaForgeError
from personaforge.progress import Progress
from personaforge.text.normalize import Token

if TYPE_CHECKING:
    from typing_extensions import Self

    from personaforge.backends.planner.claude import DirectorConfig


def _no_director() -> DirectorConfig:
    raise PersonaForgeError("this planner was set up without a director prompt")


@dataclass(frozen=True)
class PlanSetup:
    """What a planner may take from the project: the script's language, and the director's
    prompt and settings, rendered only when a planner asks (a template to render)."""

    language: str = "en"
    director: Callable[[], DirectorConfig] = _no_director


@runtime_checkable
class Planner(Protocol):
    """Turns a script into shots."""

    name: str
    version: str
    # The language the script is planned in (part of the plan's key unless English).
    language: str = "en"
    # What this planner billed for its last plan (a paid director's tokens).
    billing: list[Billing] = []  # noqa: RUF012  (a default each instance replaces)

    @classmethod
    def from_setup(cls, setup: PlanSetup) -> Self:
        """The planner for a project: a planner that needs no director prompt takes only the
        script's language (its sentences are split by that language's rules)."""
        planner = cls()
        planner.language = setup.language
        return planner

    def plan(self, script: str, persona: Persona) -> list[PlannedShot]: ...

    def settings_key(self) -> dict[str, object] | None:
        """Settings besides the script that change the plan (a director's model and prompt);
        None for a planner that has none."""
        return None


@dataclass
class TimedWord:
    """A word as written, with the time span (seconds, from the start of its audio) it is spoken."""

    text: str
    start: float
    end: float


@dataclass
class Speech:
    """One shot's synthesised speech."""

    samples: bytes  # mono signed 16-bit little-endian PCM
    sample_rate: int
    words: list[TimedWord]
    visemes: list[tuple[float, str]]  # (time in seconds, viseme name), sorted by time
    spoken: str  # the text actually sent to the voice, after normalisation
    billing: list[Billing] = field(default_factory=list)  # what a paid voice billed for it
    request_id: str | None = None  # how the service identified the request, if it did


@dataclass
class SpeechRequest:
    """How to say one piece of text, beyond the text itself (all optional)."""

    # The text already tokenized, markup removed and pronunciations applied (the
    # VoiceDirector's work); None: tokenize the text as it is.
    tokens: Sequence[Token] | None = None
    emphasis: frozenset[int] = frozenset()  # indices into tokens to say with stress
    previous_text: str = ""  # the neighbouring text, for prosody across shot boundaries
    next_text: str = ""
    delivery: dict[str, float | bool | str] = field(default_factory=dict)  # backend settings
    label: str = ""  # names the shot in messages ("shot 3")


@dataclass(frozen=True)
class VoiceSetup:
    """What a voice may take from the project: the persona (its voice: settings), the script's
    language, the environment (keys), where it keeps state, how many requests at once."""

    persona: Persona
    language: str = "en"
    env: Mapping[str, str] | None = None
    state_dir: Path | None = None
    max_concurrency: int = 2


@runtime_checkable
class TTSBackend(Protocol):
    """A voice. Backends subclass this explicitly, taking the defaults of the capabilities
    they do not have (no key to check, every language taken at its word, no context)."""

    name: str
    version: str
    # How many requests may run at once (1 for in-process voices).
    max_concurrency: int
    # Whether the neighbouring text is sent with each shot (it is then part of the take's key).
    uses_context: bool = False

    @classmethod
    def from_setup(cls, setup: VoiceSetup) -> Self:
        """The voice for a project, from what it needs of the persona and the video."""
        ...

    def settings_key(self) -> dict[str, object]:
        """Everything besides the text that changes the audio (voice, speed, model hash)."""
        ...

    def synthesize(self, text: str, request: SpeechRequest | None = None) -> Speech: ...

    def check(self) -> None:
        """Fail now, before any work, if what the voice needs (a key) is missing."""
        return None

    def check_voice(self) -> None:
        """Fail now, before any work, if the voice asked for does not exist (a name a service
        resolves, say); a voice that cannot tell says nothing."""
        return None

    def speaks(self, code: str) -> bool:
        """Whether the voice speaks the language ``code`` (one that cannot tell is taken at
        its word: it speaks what it is given)."""
        return True

    def release_memory(self) -> None:
        """Give back working memory grown while speaking, once a stage has voiced its shots."""
        return None


@dataclass
class AnimationRequest:
    look: Look
    width: int
    height: int
    fps: int
    frames: int
    visemes: Sequence[tuple[float, str]]
    emotion: str = "neutral"
    camera: str = "static"
    seed: int = 0
    # (time s, emotion, intensity 0..1) from speech.yaml's emotion curve, sorted by time;
    # empty: the shot's one ``emotion`` throughout.
    emotion_curve: Sequence[tuple[float, str, float]] = ()
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class LipsyncSetup:
    """What a lip-sync backend may need from the project, handed to its ``from_setup``
    classmethod (backends without one are built with no arguments)."""

    root: Path  # the project folder
    persona_file: Path  # persona.yaml, to name in errors about look.photo
    env: Mapping[str, str]  # the environment over the project's .env: keys come from here
    jobs: Path  # where remote jobs are journalled (build/jobs)
    storage_target: str = "local"  # video.yaml's publish target, for media sent by URL
    photo: Path | None = None  # the portrait, resolved inside the project
    photo_line: int | None = None  # its line in persona.yaml


@runtime_checkable
class LipsyncBackend(Protocol):
    """Makes a talking-head clip for one shot.

    Cloud backends may return whatever their model makes (another fps, size or length, an
    audio track): the stage conforms every clip to the shot's exact frames, fps and size,
    silent, so audio and video cannot drift.
    """

    name: str
    version: str

    @classmethod
    def from_setup(cls, setup: LipsyncSetup) -> Self:
        """The backend for a project (keys, the portrait, where jobs are journalled); one
        that needs none of it is made as it is."""
        return cls()

    def render(
        self, request: AnimationRequest, audio: Path, out: Path, progress: Progress
    ) -> list[Billing] | None:
        """Write the clip to ``out``; a paid backend returns what it was billed."""
        ...


@runtime_checkable
class FrameSource(Protocol):
    """An in-process animator (the drawn avatar, the photo animator): it yields exactly
    ``request.frames`` rgb24 frames of ``request.width`` x ``request.height``, so the shot
    can be encoded once, straight into its final segment, with no intermediate clip."""

    name: str
    version: str

    def frames(self, request: AnimationRequest, audio: Path) -> Iterator[bytes]: ...


@runtime_checkable
class Yuv420Source(FrameSource, Protocol):
    """A frame source that can also draw its frames straight as yuv420p (BT.601, limited range:
    what ffmpeg's own rgb24 conversion gives) for an even frame size: half the bytes to pipe,
    and no conversion left for ffmpeg."""

    def frames_yuv420p(self, request: AnimationRequest, audio: Path) -> Iterator[bytes]: ...


@dataclass(frozen=True)
class StorageSetup:
    """What a store is made from: video.yaml's publish target ("local", "s3://bucket/prefix",
    "r2"), the project folder (a local target publishes beside it), the environment (keys)."""

    target: str
    root: Path
    env: Mapping[str, str]


@runtime_checkable
class Storage(Protocol):
    """Where published files go."""

    name: str

    @classmethod
    def from_setup(cls, setup: StorageSetup) -> Self:
        """The store for a publish target; a missing key fails here, before any upload."""
        ...

    def url_for(self, key: str) -> str:
        """The object's stable address (which may not be openable: s3://bucket/key)."""
        ...

    def share_url(self, key: str, expires_s: int | None = None) -> tuple[str, float | None]:
        """A URL a viewer can open, and when it stops working (Unix time; None: never)."""
        ...

    def exists(self, key: str, sha256: str) -> bool:
        """True if ``key`` is already stored with this content."""
        ...

    def put(self, local: Path, key: str, sha256: str, content_type: str) -> str:
        """Upload ``local`` under ``key``; return its URL."""
        ...


@runtime_checkable
class SharedStore(Storage, Protocol):
    """A store that also reads objects back: what the shared shot cache is kept in."""

    def read_bytes(self, key: str) -> bytes | None:
        """The object's bytes; None if there is none."""
        ...

    def download(self, key: str, dest: Path, sha256: str | None = None) -> bool:
        """Write the object to ``dest`` (checked against ``sha256``); False if it is not there."""
        ...


@dataclass
class AlignedSentence:
    """One sentence of a recorded take: its words as written (``TimedWord`` per token) and its
    mouth shapes, in seconds from the start of the take."""

    words: list[TimedWord]
    visemes: list[tuple[float, str]]


@dataclass
class Alignment:
    """Where each sentence of the script is said in a take, and what finding it was billed."""

    sentences: list[AlignedSentence]
    billing: list[Billing] = field(default_factory=list)


class NotInTake(PersonaForgeError):
    """A sentence the take does not contain (``index`` into the sentences aligned), or, with
    ``index`` None, a take that does not match its script as a whole."""

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class AlignSetup:
    """What an aligner may take from the project: the script's language, the environment
    (keys), where it keeps state."""

    language: str = "en"
    env: Mapping[str, str] | None = None
    state_dir: Path | None = None


@runtime_checkable
class Aligner(Protocol):
    """Finds the script's words in a recorded take: what ``speak`` does instead of
    synthesising when video.yaml has a ``narration``, so later stages cannot tell the two apart.
    """

    name: str
    version: str

    @classmethod
    def from_setup(cls, setup: AlignSetup) -> Self:
        """The aligner for a project, from what it needs of it (the offline one: only the
        language)."""
        ...

    def settings_key(self) -> dict[str, object]:
        """Everything besides the take and the text that changes the timings."""
        ...

    def check(self) -> None:
        """Fail now, before any take is decoded, if what the aligner needs (a key) is missing."""
        return None

    def align(self, audio: Path, sentences: Sequence[str]) -> Alignment:
        """Align ``sentences`` (in order, as written) to ``audio``: a mono 16-bit WAV at
        ``ALIGN_RATE``. Raises ``NotInTake`` for a sentence the take does not contain."""
        ...


ALIGN_RATE = 16000  # what aligners are given: speech needs no more, and it is 27% less work
