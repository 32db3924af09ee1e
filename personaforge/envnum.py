"""Tuning numbers read from environment variables: one parser, one bound, one error line."""

from __future__ import annotations

from collections.abc import Mapping

from personaforge.errors import PersonaForgeError


def env_number(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    whole: bool = False,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
) -> float:
    """``name`` from ``env`` as a number (``default`` when unset or blank), kept within
    ``low``..``high``; anything else is a one-line error naming the variable."""
    raw = env.get(name, "").strip()
    if not raw:
        value = float(default)
    else:
        try:
            value = float(int(raw)) if whole else float(raw)
        except ValueError:
            kind = "a whole number" if whole else "a number"
            of = f" of {unit}" if unit else ""
            raise PersonaForgeError(f"{name} must be {kind}{of}, got {raw!r}") from None
    if low is not None:
        value = max(low, value)
    if high is not None:
        value = min(high, value)
    return value
