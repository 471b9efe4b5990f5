"""One domain exception and the named exit codes the CLI turns it into."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1  # a check found problems (rubrics check, failing grade thresholds)
    BAD_INPUT = 2  # the user gave a file, id or option that cannot be used
    MODEL = 3  # the model is missing, corrupt or cannot be loaded
    BACKEND = 4  # a judge backend failed (server down, auth, timeout)
    INTERRUPTED = 130


class TutorError(Exception):
    """An error the user can fix; the CLI prints it as one line."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.BAD_INPUT):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class TransientJudgeError(TutorError):
    """A judge failure worth retrying (rate limit, 5xx, dropped connection)."""

    def __init__(self, message: str):
        super().__init__(message, ExitCode.BACKEND)
