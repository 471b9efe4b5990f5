"""The `tutor` command: the application with every command registered."""

from tutor.edge import (  # noqa: F401  (they register)
    course_commands,
    learner_commands,
    review_commands,
    teacher_commands,
)
from tutor.edge.app import app


def main() -> None:
    """The `tutor` script."""
    app(prog_name="tutor")
