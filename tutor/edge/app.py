"""The command-line application: its group, options and the state every command shares.

Commands live beside it by role (`course_commands`, `learner_commands`, `teacher_commands`);
`tutor.edge.cli` puts them together."""

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from tutor.core.console import Console, safe_line
from tutor.core.errors import TutorError
from tutor.core.explainer_doc import Explainer
from tutor.core.rubric import Day
from tutor.core.settings import load_settings

if TYPE_CHECKING:
    from tutor.core.judges.registry import ReliableJudge
    from tutor.learner.drill import Drill
    from tutor.learner.history import History
    from tutor.learner.session import Session


class TutorGroup(TyperGroup):
    """Domain errors become one line on stderr and a named exit code, whoever runs the app
    (the `tutor` script or a test's in-process runner). TUTOR_DEBUG=1 shows the traceback."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # typer vendors click
        try:
            return super().invoke(ctx)
        except TutorError as exc:
            if os.environ.get("TUTOR_DEBUG"):
                raise
            typer.echo(f"tutor: error: {safe_line(exc.message)}", err=True)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(cls=TutorGroup, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, help="An LLM-graded oral-exam tutor.")
rubrics_app = typer.Typer(no_args_is_help=True, help="Validate rubric files.")
deck_app = typer.Typer(no_args_is_help=True, help="Turn a recall deck into rubric skeletons.")
model_app = typer.Typer(no_args_is_help=True, help="Install and check the local model.")
config_app = typer.Typer(no_args_is_help=True, help="Show the effective settings.")
app.add_typer(rubrics_app, name="rubrics")
app.add_typer(deck_app, name="deck")
app.add_typer(model_app, name="model")
app.add_typer(config_app, name="config")


class State:
    """Effective settings and the console, shared by every command."""

    def __init__(self, flags: dict[str, object]):
        self.settings, self.sources = load_settings(flags)
        self.console = Console()

    @property
    def backend(self) -> str:
        return self.settings.backend

    def explainer(self) -> Explainer | None:
        path = self.settings.explainer
        return Explainer.from_file(path) if path else None

    def ready_judge(self) -> "ReliableJudge":
        judge = self.judge()
        judge.warm()
        return judge

    def judge(self) -> "ReliableJudge":
        from tutor.core.judges.registry import judge_from_settings

        return judge_from_settings(self.settings)

    def session(self, kind: str, history: "History | None" = None) -> "Session":
        """A learner session (`ask`, `drill`, `explain`) over the user's history."""
        from tutor.learner.history import History
        from tutor.learner.session import Session

        return Session(self.console, history or History(), self.ready_judge, kind)

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
) -> None:
    ctx.obj = State({"backend": backend, "model": model, "base_url": base_url,
                     "explainer": explainer, "timeout": timeout, "head": head})


def check_day(day: str | None) -> None:
    if day and day.lower() not in {d.value for d in Day}:
        raise TutorError(f"unknown day '{day}' (use monday … friday or weekend)")
