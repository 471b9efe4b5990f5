"""The `tutor` command: the application with every command registered."""

from tutor.edge import course_commands, learner_commands, teacher_commands  # noqa: F401  (they register)
from tutor.edge.app import app


def main() -> None:
    """The `tutor` script."""
    app(prog_name="tutor")
