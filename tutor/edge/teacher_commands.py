"""The teacher's commands: grade answers (one, or a class), measure the grader, calibrate it."""

import os
import sys
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.markup import escape

from tutor.core.bank import Bank
from tutor.core.console import Console, safe_line
from tutor.core.decide import load_head
from tutor.core.errors import ExitCode, TutorError
from tutor.core.feedback import render
from tutor.core.grader import grade
from tutor.core.paths import ensure_dir
from tutor.edge.app import AllowDraftsOption, CourseOption, State, app

MAX_PARALLEL = 256  # answers in flight at once; more is a typo, not a server

if TYPE_CHECKING:
    from tutor.core.decide import Head
    from tutor.core.judges.registry import ReliableJudge
    from tutor.teacher.evaluation import EvalRun, GoldAnswer


MAX_ANSWER_BYTES = 128 * 1024  # as a CSV field: an answer is a page, not /dev/zero


def _read_answer_file(path: Path) -> str:
    """The file's text, read no further than its bound (a device or a huge file never hangs)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_ANSWER_BYTES + 1)
        if len(raw) > MAX_ANSWER_BYTES:
            raise TutorError(f"{path}: answer file over {MAX_ANSWER_BYTES // 1024} KB; "
                             "an answer is a page at most")
        return raw.decode("utf-8")
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


def _exit_interrupted(message: str) -> NoReturn:
    """Ctrl-C: one line, exit 130, at once. The judge was cancelled, but a read blocked on a
    hanging server ends only at its timeout, and Python waits for worker threads at exit; so
    with such threads alive (every saved line is already flushed and synced) the process ends
    without waiting for them."""
    Console().note(message)
    sys.stdout.flush()
    if threading.active_count() > 1:
        os._exit(ExitCode.INTERRUPTED)
    raise typer.Exit(ExitCode.INTERRUPTED)


@app.command("grade-answer")
def grade_answer(
    ctx: typer.Context,
    question: Annotated[str, typer.Option(help="Question id, e.g. w06-thu-4.")],
    answer_file: Annotated[Path, typer.Option(help="A text file with the answer ('-': stdin).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the Grade as JSON.")] = False,
    course: CourseOption = None,
    allow_drafts: AllowDraftsOption = False,
) -> None:
    """Grade one answer from a file (for scripts)."""
    state: State = ctx.obj.use_course(course)
    rubric = state.bank().get(question)
    state.check_reviewed([rubric], allow_drafts)
    text = _answer_text(state.console, answer_file)
    judge = state.ready_judge()
    try:
        result = grade(rubric, text, judge, state.head_for(judge))
    except KeyboardInterrupt:
        judge.cancel()
        _exit_interrupted("Interrupted: nothing graded.")
    if as_json:
        print(result.shown_json())
    else:
        state.console.print(render(rubric, result, state.explainer()))
    if result.status == "ungraded":
        raise typer.Exit(ExitCode.BACKEND)


@app.command("grade")
def grade_batch(
    ctx: typer.Context,
    submissions: Annotated[list[Path], typer.Argument(
        help="CSV/JSONL files, or folders of .md files or of recordings (a folder per student).")],
    out: Annotated[Path, typer.Option(help="Folder for results and reports.")],
    parallel_answers: Annotated[int, typer.Option(
        "--parallel-answers", "--concurrency",  # the second spelling: scripts from before the rename
        min=1, max=MAX_PARALLEL, help="Answers graded at once (for API servers with several slots).")] = 1,
    retry_errors: Annotated[bool, typer.Option(help="Re-grade only rows that failed.")] = False,
    course: CourseOption = None,
    allow_drafts: AllowDraftsOption = False,
    allow_outside_audio: Annotated[bool, typer.Option(
        "--allow-outside-audio", help="Read `audio` paths that lead outside the submissions folder "
                                      "(../x.wav, an absolute path, a link); refused otherwise.")] = False,
    cluster: Annotated[str | None, typer.Option(
        help="Grade on Ray workers, one judge each: local[:N] (N workers on this machine) or a Ray "
             "cluster's HOST:PORT (`ray start --head`). This process stays the one writer.")] = None,
    worker_threads: Annotated[int | None, typer.Option(
        min=1, max=256, help="With --cluster: llama.cpp threads per worker (default: local, the cores "
                             "shared out; a cluster, 4).")] = None,
) -> None:
    """Grade a class's written or recorded answers: results.jsonl, gradebook.csv, feedback/, report.html."""
    from tutor.teacher.batch.cluster import Cluster, parse_cluster
    from tutor.teacher.batch.command import grade_submissions

    state: State = ctx.obj.use_course(course)
    spec = parse_cluster(cluster, worker_threads) if cluster else None
    workers = Cluster(spec, state.settings, state.console) if spec else None
    try:
        summary = grade_submissions(state.bank(), state.ready_judge, submissions, out, parallel_answers,
                                    retry_errors, state.course.info.speech_terms, state.head_for,
                                    lambda rubrics: state.check_reviewed(rubrics, allow_drafts),
                                    outside_audio=allow_outside_audio, console=state.console,
                                    cluster=workers)
    except KeyboardInterrupt:
        if workers:  # before the exit, which may not wait for Ray's threads
            workers.close()
        _exit_interrupted(f"Interrupted: the answers graded so far are saved in {safe_line(str(out))}; "
                          "run the same command again to grade the rest.")
    finally:
        if workers:
            workers.close()
    state.console.print(escape(summary.line(out)), soft_wrap=True)
    if summary.problems():
        raise typer.Exit(ExitCode.PROBLEMS)


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    split: Annotated[str, typer.Option(help="train, dev, test, all (dev + test) or every")] = "test",
    labelled: Annotated[Path | None, typer.Option(
        help="A labelled file in the gold format (e.g. a teacher's corrections) instead of a split.")] = None,
    ids: Annotated[str | None, typer.Option(help="Only these gold ids (comma-separated).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N answers.")] = None,
    rerun: Annotated[int, typer.Option(min=0, help="Re-grade the first N to check determinism.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Folder for results.jsonl and report.md.")] = None,
    saved: Annotated[list[Path] | None, typer.Option(
        "--from", help="Saved results.jsonl (one or two), or a marks folder reviewed in `tutor review` "
                       "(the grader against the teacher): re-score and report without the model.")] = None,
    kp_threshold: Annotated[float | None, typer.Option(
        min=0, max=1, help="Override the key-point threshold.")] = None,
    misc_threshold: Annotated[float | None, typer.Option(
        min=0, max=1, help="Override the misconception threshold.")] = None,
    min_spearman: Annotated[float | None, typer.Option(
        min=-1, max=1, help="Exit 1 if Spearman is below.")] = None,
    min_band_accuracy: Annotated[float | None, typer.Option(
        min=0, max=1, help="Exit 1 if band accuracy is below.")] = None,
    held_out: Annotated[bool, typer.Option(
        "--held-out", help="With --from: leave-one-source-out and leave-one-family-out, the head refitted "
                           "and tuned without each group (no model call).")] = False,
    invariance: Annotated[bool, typer.Option(
        help="Also grade each answer with its sentence ends as commas, in lower case on one line, and as "
             "an unpunctuated transcript; report the band changes.")] = False,
    course: CourseOption = None,
) -> None:
    """Measure the grader against human marks: the gold set, or a teacher's review (--from MARKS_DIR)."""
    from tutor.teacher import evaluation as ev

    state: State = ctx.obj.use_course(course)
    bank = state.bank()
    if out:
        ensure_dir(out, "--out")  # before a long run, not after it
    if held_out:
        return _held_out(state, bank, saved, labelled, out)
    if invariance and saved and len(saved) != 1:
        raise TutorError("--invariance with --from re-decides one saved run (results.jsonl of "
                         "`eval --invariance --out`) and the variants saved beside it")
    if saved:
        head: Head = load_head(state.head_option()).with_thresholds(kp_threshold, misc_threshold)
        runs = {label: ev.rescore_run(bank, run, head)
                for label, run in zip(ev.run_labels(saved), _saved_runs(bank, saved, labelled), strict=True)}
        what = "saved runs"
    else:
        gold = ev.load_labelled(labelled) if labelled else ev.load_gold(split)
        judge = state.judge()
        head = state.head_for(judge).with_thresholds(kp_threshold, misc_threshold)
        run = _run_eval(state.console, bank, [g for g in gold if not ids or g.id in ids.split(",")][:limit],
                        judge, head, rerun, split)
        runs = {f"{state.backend}:{state.settings.model or 'default'}": run}
        what = f"split {split}"
        if out:
            run.dump(out / "results.jsonl")
    text = ev.report(runs, f"Grader eval, {what}, head {head.name}, thresholds "
                           f"{head.thresholds.key_point}/{head.thresholds.misconception}")
    if invariance and saved:
        text += _invariance(next(iter(runs.values())), _saved_variant(bank, saved[0], head))
    elif invariance:
        text += _invariance(run, _graded_variant(state.console, bank, judge, head, out))
    if out:
        (out / "report.md").write_text(text)
    state.console.say(text)
    failures = ev.guard_failures(ev.metrics(next(iter(runs.values()))), min_spearman, min_band_accuracy)
    if failures:
        state.console.note("eval guard failed: " + "; ".join(failures))
        raise typer.Exit(ExitCode.PROBLEMS)


def _held_out(state: State, bank: Bank, saved: list[Path] | None, labelled: Path | None,
              out: Path | None) -> None:
    """`eval --from RUNS --held-out`: each source and attack family graded by a head fitted without it."""
    from tutor.teacher.calibration import check_states
    from tutor.teacher.evaluation import joined
    from tutor.teacher.generalisation import held_out_report

    if not saved:
        raise TutorError("--held-out re-decides saved runs: give them with --from RESULTS.jsonl")
    run = joined(_saved_runs(bank, saved, labelled))
    check_states(run, ", ".join(str(p) for p in saved))
    text = held_out_report(bank, run, say=state.console.note)
    if out:
        (out / "held-out.md").write_text(text)
    state.console.say(text)


VariantRun = Callable[[str, "list[GoldAnswer]"], "EvalRun"]  # (variant, its answers) → their grades


def _invariance(typed: "EvalRun", variant_run: VariantRun) -> str:
    """The same answers written other ways, decided by the same judge and head."""
    from tutor.teacher import invariance

    found = []
    for name, rewrite in invariance.VARIANTS.items():
        gold = [g.model_copy(update={"answer": rewrite(g.answer)}) for g in typed.gold]
        found.append(invariance.compare(typed, name, variant_run(name, gold)))
    return "\n".join(["", "## Invariance: the same answers written other ways", "",
                      *invariance.table(found), ""])


def _graded_variant(console: Console, bank: Bank, judge: "ReliableJudge", head: "Head",
                    out: Path | None) -> VariantRun:
    from tutor.teacher.invariance import slug

    def graded(name: str, gold: "list[GoldAnswer]") -> "EvalRun":
        run = _run_eval(console, bank, gold, judge, head, 0, name)
        if out:
            run.dump(out / f"results-{slug(name)}.jsonl")
        return run
    return graded


def _saved_variant(bank: Bank, typed: Path, head: "Head") -> VariantRun:
    """A variant saved beside the typed run by `eval --invariance --out`, re-decided with `head`
    (its answers as that variant wrote them: the patterns and numbers read the written text)."""
    from tutor.teacher.evaluation import load_run, rescore_run
    from tutor.teacher.invariance import slug

    def saved(name: str, gold: "list[GoldAnswer]") -> "EvalRun":
        return rescore_run(bank, load_run(typed.parent / f"results-{slug(name)}.jsonl", gold), head)
    return saved


def _saved_runs(bank: Bank, saved: list[Path], labelled: Path | None) -> "list[EvalRun]":
    """Each --from: a saved run (matched to the gold set and `labelled`), or a reviewed marks
    folder (the grader's grades against the teacher's)."""
    from tutor.teacher.evaluation import load_runs
    from tutor.teacher.reviewed_labels import reviewed_run

    files = iter(load_runs([p for p in saved if not p.is_dir()], [labelled] if labelled else []))
    return [reviewed_run(bank, p) if p.is_dir() else next(files) for p in saved]


def _run_eval(console: Console, bank: Bank, gold: "list[GoldAnswer]", judge: "ReliableJudge", head: "Head",
              rerun: int, split: str) -> "EvalRun":
    from tutor.teacher.evaluation import run_eval

    with console.progress(f"eval {split}", len(gold)) as advance:
        return run_eval(bank, gold, judge, head, rerun=rerun, progress=advance)


@app.command()
def calibrate(
    ctx: typer.Context,
    train: Annotated[list[Path] | None, typer.Argument(
        help="Saved runs (results.jsonl of `tutor eval --out`) on labelled answers to fit on.")] = None,
    dev: Annotated[Path | None, typer.Option(
        help="A saved run on other answers: choose C, thresholds, review (default: one question in four "
             "of the runs, as the held-out report does).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Where to write the head (.npz); with --from, default: the course folder.")] = None,
    reviews: Annotated[Path | None, typer.Option(
        "--from", help="A marks folder reviewed in `tutor review`: refit thresholds on the teacher.")] = None,
    labelled: Annotated[list[Path] | None, typer.Option(
        help="Labelled files (gold format) the runs were made on, beyond the gold splits.")] = None,
    plain: Annotated[bool, typer.Option(help="Fit on P(yes) alone, without hidden states.")] = False,
    course: CourseOption = None,
) -> None:
    """Fit the judge head on labelled points, or refit its thresholds on a teacher's review (--from)."""
    state: State = ctx.obj.use_course(course)
    if reviews:
        _refit_on_reviews(state, reviews, out)
        return
    if not (train and out):
        raise TutorError("calibrate needs saved runs and --out, or --from MARKS_DIR")
    from tutor.core.model_store import resolve
    from tutor.teacher.calibration import fit_head
    from tutor.teacher.refit import save_head

    ensure_dir(out.parent, "--out")
    head = fit_head(state.bank(), train, dev, resolve(state.settings.model), labelled, plain)
    save_head(head, out)
    state.console.print(f"head {escape(head.name)} written to {escape(str(out))}", soft_wrap=True)


def _refit_on_reviews(state: State, marks_dir: Path, out: Path | None) -> None:
    """The current head refitted on the teacher's reviewed answers, saved at --out, or in the
    course folder and named in its course.toml (so the course grades with it from now on)."""
    from tutor.core.decide import ProbeHead
    from tutor.teacher.refit import COURSE_HEAD, refit_from_marks, save_head

    head = load_head(state.head_option())
    if not isinstance(head, ProbeHead):
        raise TutorError("--from refits a trained head's thresholds; this judge uses plain P(yes)")
    if out is None and state.course.bundled:
        raise TutorError("the bundled course cannot be changed: give --out FILE.npz (then --head FILE.npz), "
                         "or make your own course with `tutor course new`")
    if out is not None:
        ensure_dir(out.parent, "--out")
    say = partial(state.console.print, soft_wrap=True)
    refit = refit_from_marks(state.bank(), marks_dir, head, say=lambda line: say(escape(line)))
    target = out or state.course.root / COURSE_HEAD
    save_head(refit, target, None if out else state.course)
    say(f"head {escape(refit.name)} written to {escape(str(target))}")
