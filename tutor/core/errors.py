"""One domain exception, the named exit codes the CLI turns it into, and the one wording of a
validation error for every file a user writes (rubrics, course.toml, settings, labelled and
override lines)."""

from enum import IntEnum

from pydantic import ValidationError
from pydantic_core import ErrorDetails


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


def field_path(loc: tuple[int | str, ...]) -> str:
    """A field as the user writes it: `key_points[3].weight`."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def problem_text(error: ErrorDetails) -> str:
    """What one validation error says, in words a user acts on."""
    if error["type"] == "extra_forbidden":
        return f"unknown key '{error['loc'][-1]}' (check the spelling)"
    if error["type"] == "missing":
        return "required field is missing"
    return " ".join(error["msg"].removeprefix("Value error, ").split())


def first_problem(exc: ValidationError) -> str:
    """The first validation error as "field: what is wrong" (just the words for a whole-line
    error, such as a line that is not a JSON object)."""
    error = exc.errors()[0]
    where = field_path(tuple(error["loc"]))
    return f"{where}: {problem_text(error)}" if where else problem_text(error)
