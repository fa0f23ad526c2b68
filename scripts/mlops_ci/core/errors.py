"""The CLI's exit-code contract: 0 success, 1 a check or gate said no, 2 usage or input error."""

from __future__ import annotations

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2


class MlopsCiError(Exception):
    """A usage or input error: bad arguments, a missing or malformed file, an unreachable server.

    `where` names the file, URL or option the message is about; the CLI prints one line and exits 2.
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: str, where: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.line = line

    def __str__(self) -> str:
        if self.where is None:
            return self.message
        location = f"{self.where}:{self.line}" if self.line is not None else self.where
        return f"{location}: {self.message}"


class CheckFailed(MlopsCiError):
    """A check or gate said no (exit 1). Commands usually return 1 themselves; this is for deep calls."""

    exit_code = EXIT_REFUSED
