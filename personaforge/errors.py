"""The one error type PersonaForge raises for expected failures, and the exit codes."""

from __future__ import annotations

import enum
import re
from pathlib import Path

# A parent process (batch) names a file here to get a CLI run's outcome as JSON (its exit
# code and its error's fields) instead of reading them back out of the words on stderr.
OUTCOME_VAR = "PERSONAFORGE_OUTCOME_FILE"
# The password of a URL's userinfo (scheme://user:PASSWORD@host): a base URL from the
# environment (ANTHROPIC_BASE_URL, R2_ENDPOINT) may carry one, and errors print URLs.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s]*@")


def mask_secrets(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _URL_PASSWORD.sub(r"\1:***@", text)


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1  # expected failure: bad input, a backend that failed
    USAGE = 2  # bad command line
    CRASH = 3  # unexpected: a crash log was written
    INTERRUPTED = 130  # SIGINT (Ctrl-C); SIGTERM and SIGHUP exit 128 + their number


class PersonaForgeError(Exception):
    """An expected failure, reported to the user as one line.

    ``file``/``line``/``field`` locate bad input; ``stage`` names the stage that broke;
    ``hint`` says how to fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        stage: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.stage = stage
        self.hint = hint

    def with_stage(self, stage: str) -> PersonaForgeError:
        if self.stage is None:
            self.stage = stage
        return self

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        field = f"{self.field}: " if self.field else ""
        stage = f"[{self.stage}] " if self.stage else ""
        hint = f" ({self.hint})" if self.hint else ""
        return mask_secrets(f"{stage}{where}{field}{self.message}{hint}")


class MissingDependencyError(PersonaForgeError):
    """A backend needs a package or a key that is not there."""


class MissingKeyError(MissingDependencyError):
    """A cloud backend's key is not set. A stage that will not call the backend (every shot
    it needs is made already) goes on without it."""


class DamagedObject(PersonaForgeError):
    """A stored object does not hold the content its key names: that object is not trusted
    (the store itself answered, so it stays in use)."""
