"""The estimate counts the same shots as paid lip-sync work as the lipsync stage makes."""

from __future__ import annotations

from personaforge import estimate
from personaforge.stages import lipsync


def test_estimate_and_stage_agree_on_which_shots_the_backend_makes() -> None:
    assert estimate.PERSONA_KINDS == lipsync.PERSONA_KINDS
