"""PersonaForge: turn a persona and a script into a captioned talking-persona video."""

from __future__ import annotations

__version__ = "0.1.0"
