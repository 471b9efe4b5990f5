"""The command-line application: its group, options and the state every command shares.

Commands live beside it by role (`course_commands`, `learner_commands`, `teacher_commands`);
`tutor.edge.cli` puts them together."""

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer vendors click
from typer.core import TyperGroup

from tutor.core.console import Console
from tutor.core.course import Course, open_course
from tutor.core.errors import ExitCode, TutorError
from tutor.core.explainer_doc import Explainer
from tutor.core.rubric import Day
from tutor.core.settings import load_settings

if TYPE_CHECKING:
    from tutor.core.bank import Bank
    from tutor.core.decide import Head
    from tutor.core.judges.base import Judge
    from tutor.core.judges.registry import ReliableJudge
    from tutor.core.rubric import Rubric
    from tutor.learner.drill import Drill
    from tutor.learner.history import History
    from tutor.learner.session import Session


class TutorGroup(TyperGroup):
    """Domain errors become one line on stderr and a named exit code, whoever runs the app
    (the `tutor` script or a test's in-process runner). TUTOR_DEBUG=1 shows the traceback."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        """The global options are read here: a bad value is one line too."""
        with one_line_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # typer vendors click
        with one_line_errors():
            return super().invoke(ctx)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """A TutorError, or an option value out of its range or of the wrong type (typer's
    `BadParameter`, raised while a command's options are read), becomes one stderr line."""
    try:
        yield
    except TutorError as exc:
        if os.environ.get("TUTOR_DEBUG"):
            raise
        Console().error(exc.message)
        raise typer.Exit(exc.exit_code) from None
    except NoArgsIsHelpError:
        raise  # a bare `tutor grade`: its help, as asked for
    except UsageError as exc:  # a bad value, an unknown option or command, a missing argument
        Console().error(_usage_line(exc))
        raise typer.Exit(ExitCode.BAD_INPUT) from None


def _usage_line(exc: UsageError) -> str:
    """typer's multi-line usage box as one line: the problem, and where help is."""
    if isinstance(exc, typer.BadParameter):
        return exc.format_message()
    command = exc.ctx.command_path if exc.ctx else "tutor"
    return f"{exc.format_message()} (see `{command} --help`)"


class StderrWarnings(logging.Handler):
    """tutor's warnings (an API key about to cross the network in clear, a retry, a backend no
    longer called) reach the terminal: one line each on stderr, whoever runs the app."""

    def emit(self, record: logging.LogRecord) -> None:
        Console().warn(f"warning: {record.getMessage()}")


def warnings_to_stderr() -> None:
    """Once per process: the package's logger has only a NullHandler until the CLI runs."""
    logger = logging.getLogger("tutor")
    if not any(isinstance(h, StderrWarnings) for h in logger.handlers):
        logger.addHandler(StderrWarnings(logging.WARNING))


app = typer.Typer(cls=TutorGroup, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, help="An LLM-graded oral-exam tutor.")
rubrics_app = typer.Typer(no_args_is_help=True, help="Validate rubric files.")
deck_app = typer.Typer(no_args_is_help=True, hidden=True, help="Moved: `tutor course new`.")
course_app = typer.Typer(no_args_is_help=True, help="Make a course folder from a recall deck.")
model_app = typer.Typer(no_args_is_help=True, help="Install and check the local model.")
config_app = typer.Typer(no_args_is_help=True, help="Show the effective settings.")
app.add_typer(rubrics_app, name="rubrics")
app.add_typer(deck_app, name="deck")
app.add_typer(course_app, name="course")
app.add_typer(model_app, name="model")
app.add_typer(config_app, name="config")


CourseOption = Annotated[Path | None, typer.Option(
    help="A course folder (rubrics/, course.toml, explainer.md); default: $TUTOR_COURSE, the "
         "`course` setting, else the bundled Week 6 course.")]

AllowDraftsOption = Annotated[bool, typer.Option(
    "--allow-drafts", help="Grade against rubrics still marked `reviewed: false` (skeletons from "
                           "`tutor course new`), whose TODO points would grade every answer wrong.")]


class State:
    """Effective settings and the console, shared by every command."""

    def __init__(self, flags: dict[str, object]):
        self.settings, self.sources = load_settings(flags)
        self.console = Console()

    def use_course(self, folder: Path | None) -> "State":
        """A command's own `--course` wins over the global one, the environment and the config."""
        if folder is not None:
            self.settings = self.settings.model_copy(update={"course": folder})
            self.sources["course"] = "flag"
            self.__dict__.pop("course", None)
        return self

    @cached_property
    def course(self) -> Course:
        return open_course(self.settings.course)

    def bank(self) -> "Bank":
        """The rubrics of the course every command works on."""
        return self.course.bank

    def check_reviewed(self, rubrics: "Iterable[Rubric]", allow_drafts: bool) -> None:
        """Refuse to grade against a skeleton (`reviewed: false`): its TODO points would mark
        every answer wrong. One line naming the first such file; --allow-drafts grades anyway."""
        drafts = sorted({r.id for r in rubrics if not r.reviewed})
        if drafts and not allow_drafts:
            more = f" (and {len(drafts) - 1} more)" if len(drafts) > 1 else ""
            raise TutorError(f"{self.course.rubrics_dir / f'{drafts[0]}.yaml'}: still a skeleton "
                             f"(reviewed: false){more}: fill in its points and set `reviewed: true` "
                             "(`tutor rubrics check` lists what is left), or pass --allow-drafts")

    def history(self) -> "History":
        """The learner's attempts and schedule for this course."""
        from tutor.learner.history import History, db_path

        return History(db_path(self.course.key))

    @property
    def backend(self) -> str:
        return self.settings.backend

    def explainer(self) -> Explainer | None:
        """The learner's own copy (--explainer), else the course's `explainer.md`, if any."""
        path = self.settings.explainer or self.course.explainer
        return Explainer.from_file(path) if path else None

    def ready_judge(self) -> "ReliableJudge":
        judge = self.judge()
        judge.warm()
        return judge

    def judge(self) -> "ReliableJudge":
        from tutor.core.judges.registry import judge_from_settings

        return judge_from_settings(self.settings)

    def head_for(self, judge: "Judge") -> "Head":
        """The head for this judge's signals: the one asked for (`head_option`) where it was
        fitted on them, else plain P(yes) with a notice (`tutor.core.decide.head_for`)."""
        from tutor.core.decide import head_for

        return head_for(self.head_option(), judge.provenance)

    def head_option(self) -> str | None:
        """The judge head asked for (--head, TUTOR_HEAD, config), else the course's own, if any."""
        return self.settings.head or self.course.head

    def session(self, kind: str, history: "History | None" = None) -> "Session":
        """A learner session (`ask`, `drill`, `explain`) over the user's history."""
        from tutor.learner.session import Session

        return Session(self.console, history or self.history(), self.ready_judge, kind,
                       choose_head=self.head_for)

    def drill(self, kind: str, history: "History | None" = None) -> "Drill":
        from tutor.learner.drill import Drill

        return Drill(self.session(kind, history), self.explainer())


@app.callback()
def options(
    ctx: typer.Context,
    backend: Annotated[str | None, typer.Option(help="Judge backend: local or openai.")] = None,
    model: Annotated[str | None, typer.Option(
        help="local: 'default', 'small' or a PATH.gguf; openai: the model name.")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server URL.")] = None,
    explainer: Annotated[Path | None, typer.Option(
        help="Your copy of the explainer (Markdown): pointers show the section's text.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds per API request.")] = None,
    head: Annotated[str | None, typer.Option(
        help="Judge head: a file from `tutor calibrate`, or 'plain' for P(yes) with thresholds.")] = None,
    course: CourseOption = None,
) -> None:
    warnings_to_stderr()
    ctx.obj = State({"backend": backend, "model": model, "base_url": base_url,
                     "explainer": explainer, "timeout": timeout, "head": head, "course": course})


def check_day(day: str | None) -> None:
    """An unknown or empty --day is refused (an empty one would silently mean every day)."""
    if day is not None and day.strip().lower() not in {d.value for d in Day}:
        raise TutorError(f"--day: unknown day '{day}' (use monday … friday or weekend)")


def check_filters(bank: "Bank", day: str | None, section: str | None) -> None:
    """--day and --section name something in the course: a typo is an error, not an empty list."""
    check_day(day)
    if section is not None and not (section.strip() and bank.select(section=section.strip())):
        known = sorted({s.split(".")[0] for r in bank.rubrics for s in r.sections()})
        raise TutorError(f"--section: unknown section '{section}' in this course "
                         f"(sections: {', '.join(known)}, or a subsection such as 4.3)")
