"""Validation errors in PersonaForge's words: pydantic's ("Input should be 'youtube',
'shorts' or 'square'") turned into "must be one of ...", with a "did you mean" where one
value is close."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

_QUOTED = re.compile(r"'([^']*)'")


def plain_message(err: Mapping[str, Any]) -> str | None:
    """The message for one pydantic error (a dict from ``ValidationError.errors()``)."""
    kind, msg = err.get("type", ""), str(err.get("msg", ""))
    if kind == "literal_error":
        choices = _QUOTED.findall(str((err.get("ctx") or {}).get("expected", "")))
        if choices:
            text = f"must be one of {', '.join(choices)}"
            given = err.get("input")
            guess = difflib.get_close_matches(str(given), choices, n=1) if given else []
            return text + (f"; did you mean {guess[0]!r}?" if guess else "")
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if msg.startswith("Input should be "):
        msg = "must be " + msg.removeprefix("Input should be ")
    return msg.replace("Input should", "must") or None
