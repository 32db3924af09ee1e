"""The one dated price table for every paid backend, and the billing record a paid call leaves.

Estimates (``estimate``, ``--dry-run``, ``--max-cost``) and the recorded cost of finished work
both read prices from here, so a price change is one edit and its date says how old it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

PRICES_AS_OF: Final = "2026-11-01"


@dataclass(frozen=True)
class Price:
    provider: str
    unit: str  # what the provider bills: "character", "input_token", "gpu_second", ...
    usd_per_unit: float
    note: str = ""


# Public list prices on PRICES_AS_OF, pay-as-you-go (no plan discounts). Keys are
# "provider:unit" or "provider:model:unit".
PRICES: Final[dict[str, Price]] = {
    # ElevenLabs: credits are characters; overage on the Creator plan, multilingual v2.
    "elevenlabs:character": Price("elevenlabs", "character", 0.00030, "Creator overage, v2"),
    "elevenlabs:eleven_flash_v2_5:character": Price(
        "elevenlabs", "character", 0.00015, "flash/turbo bill half a credit per character"
    ),
    "elevenlabs:eleven_turbo_v2_5:character": Price("elevenlabs", "character", 0.00015),
    # ElevenLabs speech to text and forced alignment bill the audio's length ($0.40 an hour).
    "elevenlabs:audio_second": Price("elevenlabs", "audio_second", 0.40 / 3600, "Scribe"),
    # Anthropic Claude, per token.
    "anthropic:input_token": Price("anthropic", "input_token", 3.00e-6, "Sonnet-class"),
    "anthropic:output_token": Price("anthropic", "output_token", 15.00e-6, "Sonnet-class"),
    "anthropic:claude-sonnet-5-5:input_token": Price("anthropic", "input_token", 2.00e-6),
    "anthropic:claude-sonnet-5-5:output_token": Price("anthropic", "output_token", 10.00e-6),
    "anthropic:claude-sonnet-5:input_token": Price("anthropic", "input_token", 2.00e-6),
    "anthropic:claude-sonnet-5:output_token": Price("anthropic", "output_token", 10.00e-6),
    "anthropic:claude-haiku-4-5:input_token": Price("anthropic", "input_token", 1.00e-6),
    "anthropic:claude-haiku-4-5:output_token": Price("anthropic", "output_token", 5.00e-6),
    "anthropic:claude-opus-4-1:input_token": Price("anthropic", "input_token", 15.00e-6),
    "anthropic:claude-opus-4-1:output_token": Price("anthropic", "output_token", 75.00e-6),
    # Replicate bills GPU time of the hardware the model runs on (SadTalker: an A100 40GB).
    "replicate:gpu_second": Price("replicate", "gpu_second", 0.00115, "A100 (40GB)"),
    # RunPod serverless, flex worker, 24 GB class GPU (L4/A5000), per second.
    "runpod:gpu_second": Price("runpod", "gpu_second", 0.00019, "flex, 24 GB GPU"),
}


def price(provider: str, unit: str, model: str | None = None) -> Price:
    """The price of one unit, the model's own row first; KeyError names what is missing."""
    if model and f"{provider}:{model}:{unit}" in PRICES:
        return PRICES[f"{provider}:{model}:{unit}"]
    return PRICES[f"{provider}:{unit}"]


class Billing(BaseModel):
    """What one paid call billed (recorded per shot), or what one would bill (an estimate)."""

    model_config = ConfigDict(extra="forbid")

    provider: str
    unit: str
    quantity: float = Field(ge=0)
    usd: float = Field(ge=0)
    request_id: str | None = None
    estimated: bool = False


def bill(
    provider: str,
    unit: str,
    quantity: float,
    *,
    model: str | None = None,
    request_id: str | None = None,
    estimated: bool = False,
) -> Billing:
    p = price(provider, unit, model)
    return Billing(
        provider=provider,
        unit=unit,
        quantity=quantity,
        usd=round(quantity * p.usd_per_unit, 6),
        request_id=request_id,
        estimated=estimated,
    )


def summarize(bills: Iterable[Billing]) -> dict[str, object]:
    """Totals per provider and unit, and in USD, for --json and status."""
    units: dict[str, float] = {}
    usd = 0.0
    for b in bills:
        key = f"{b.provider}:{b.unit}"
        units[key] = units.get(key, 0.0) + b.quantity
        usd += b.usd
    return {"units": units, "usd": round(usd, 4), "prices_as_of": PRICES_AS_OF}
