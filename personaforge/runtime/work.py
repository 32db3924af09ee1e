"""A stage's plan of work, said without doing it: whether it runs and why, the shots it would
make or reuse (and why), the paid calls it would make, what they would bill and how long the
stage would take. One ``StageWork`` per stage, from the stage's own ``work`` (its ``Stage``),
read by ``estimate`` (a sum over stages), preflight (which keys a run needs) and ``status``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from personaforge.backends.rates import PaidShot
from personaforge.core.manifests import Recorded
from personaforge.costs import Billing

WORDS_PER_SECOND = 2.5  # speech at about 150 words a minute, for a shot not spoken yet


def seconds_for(text: str, speed: float) -> float:
    """A shot's spoken length guessed from its words (before it is spoken)."""
    return max(0.5, len(text.split()) / WORDS_PER_SECOND / max(speed, 0.1))


@dataclass
class ShotWork:
    """One shot as a stage would treat it: made (``make``) or reused, and why."""

    text: str
    kind: str
    seconds: float  # spoken length: recorded where known, else from the word count
    make: bool = False
    reason: str = "up to date"
    paid: bool = False  # making it calls a paid backend
    chars: int = 0  # what a voice would be sent (after normalisation)

    def paid_shot(self) -> PaidShot:
        return PaidShot(self.seconds, self.chars)


@dataclass
class StageWork:
    stage: str
    backend: str  # as estimate names it (``narration:offline`` for an aligned take)
    runs: bool
    reason: str
    shots: list[ShotWork] = field(default_factory=list)
    bills: list[Billing] = field(default_factory=list)
    calls: int = 0  # paid calls: Claude requests, takes voiced, clips predicted, takes aligned
    paid: bool = False  # its backend bills (its RATES have units)
    seconds: float = 0.0  # wall clock, from the measured rates
    duration_s: float = 0.0  # the video's length as this stage sees it
    draft: Any = None  # what the next stage's work reads (the shots, the speech as it would be)
    previous: Recorded | None = None  # the stage's record, as the skip check read it

    @property
    def to_make(self) -> list[ShotWork]:
        return [s for s in self.shots if s.make]

    @property
    def reused(self) -> list[ShotWork]:
        return [s for s in self.shots if not s.make]


def will_call(works: dict[str, StageWork], stage: str) -> bool:
    """Whether a run would call ``stage``'s backend, erring on the side of yes: not when the
    stage is up to date or every shot it needs is made already; always after a director
    re-plans, as the shots it will choose are not known before it answers."""
    planning = works.get("plan")
    if stage != "plan" and planning is not None and planning.runs and planning.backend != "offline":
        return True
    work = works[stage]
    if not work.runs:
        return False
    return work.calls > 0 if work.paid else bool(work.to_make)
