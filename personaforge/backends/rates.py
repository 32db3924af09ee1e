"""What a backend's work costs, beside the backend: the units it would bill for the shots
given to it, and the wall-clock seconds it takes per call and per second of audio.

Each backend module that costs money or time declares ``RATES``; ``registry.rates(kind,
name)`` finds it through the backend's registry entry (a backend without one is free and
takes no time of its own). The prices of those units stay in ``costs.PRICES``, the one dated
table that the recorded bills of finished work read as well.

The seconds are measured, not guessed: on the 2-core development machine, unloaded, by
``bench/render_bench.py`` and ``bench/estimate_bench.py`` (a 60 s video at 1080p). To measure
them again: run ``bench/estimate_bench.py`` (``make bench``); a ratio off 1.0 in the from-scratch
case points at the voice's ``per_audio_s`` and the stage's per-frame constants, in the edit
case at ``per_call_s`` and the per-run constants (lipsync's LIPSYNC_S, estimate's RUN_S).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from personaforge.costs import Billing, bill


@dataclass(frozen=True)
class PaidShot:
    """One shot a backend would be called for: its spoken length, and the characters sent."""

    seconds: float
    chars: int = 0


# (the shots, what else the request is made of: prompt characters, say; the model) -> bills
Units = Callable[[Sequence[PaidShot], Mapping[str, float], "str | None"], list[Billing]]


@dataclass(frozen=True)
class Rates:
    """A backend's time per call made (a take voiced, a clip predicted, a request answered),
    per second of audio made, and once per run that calls it (loading a model); ``units``,
    when the backend bills, what it would bill. The default: free, no time of its own."""

    per_call_s: float = 0.0
    per_audio_s: float = 0.0
    load_s: float = 0.0
    units: Units | None = None

    @property
    def paid(self) -> bool:
        return self.units is not None

    def seconds(self, shots: Sequence[PaidShot]) -> float:
        if not shots:
            return 0.0
        return self.load_s + sum(self.per_call_s + self.per_audio_s * s.seconds for s in shots)

    def bills(
        self, shots: Sequence[PaidShot], extra: Mapping[str, float], model: str | None = None
    ) -> list[Billing]:
        if self.units is None or not (shots or extra):
            return []
        return self.units(shots, extra, model)


FREE = Rates()


def gpu_seconds(provider: str, per_shot_s: float, per_audio_s: float) -> Units:
    """A hosted model billed by GPU time: start-up per prediction plus a multiple of the
    shot's length."""

    def units(
        shots: Sequence[PaidShot], extra: Mapping[str, float], model: str | None
    ) -> list[Billing]:
        gpu = sum(per_shot_s + per_audio_s * s.seconds for s in shots)
        return [bill(provider, "gpu_second", round(gpu, 1), estimated=True)] if shots else []

    return units
