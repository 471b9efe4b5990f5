"""The learner's commands: `ask`, `drill`, `explain`, `exam` (one session loop) and `stats`."""

import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tutor.core.console import Console
from tutor.core.errors import ExitCode, TutorError
from tutor.edge.app import AllowDraftsOption, CourseOption, State, app, check_filters

if TYPE_CHECKING:
    from tutor.core.rubric import Rubric
    from tutor.learner.history import History
    from tutor.learner.session import Answers, Session

VoiceOption = Annotated[bool, typer.Option(
    "--voice", help="Answer by speaking (microphone): a 2 s pause or Enter ends an answer, then "
                    "accept, re-record or edit the transcript. Needs the voice extra.")]
SpeakOption = Annotated[bool, typer.Option(
    "--speak", help="With --voice: read each question aloud (espeak-ng).")]


def _answers(state: State, voice: bool, speak: bool, audio: Path | None = None) -> "Answers | None":
    """Spoken replies (--voice, --audio), checked before the session starts; None: typed."""
    if speak and not voice:
        raise TutorError("--speak reads the questions aloud in a spoken session: add --voice")
    if voice and audio:
        raise TutorError("--voice and --audio: choose one")
    if not (voice or audio):
        return None
    from tutor.learner import voice as spoken

    terms = state.course.info.speech_terms
    if audio:
        return spoken.from_recording(state.console, audio, terms)
    return spoken.from_microphone(state.console, terms, speak)


def _finish(session: "Session") -> None:
    """Ctrl-C ended the session: it said so once (and what was kept); exit 130."""
    if session.interrupted:
        raise typer.Exit(ExitCode.INTERRUPTED)


def _spoken(session: "Session", answers: "Answers | None") -> "Session":
    """The session, reading its replies from `answers` when the learner speaks."""
    if answers is not None:
        session.answers = answers
    return session


@app.command()
def ask(ctx: typer.Context,
        question_id: Annotated[str | None, typer.Argument(help="Default: a random question.")] = None,
        as_json: Annotated[bool, typer.Option(
            "--json", help="Print the Grade as JSON on stdout; the session goes to stderr.")] = False,
        course: CourseOption = None,
        voice: VoiceOption = False,
        speak: SpeakOption = False,
        audio: Annotated[Path | None, typer.Option(
            help="Answer from a recording (wav, mp3, m4a, ogg, webm). Needs the voice extra.")] = None,
        allow_drafts: AllowDraftsOption = False,
        ) -> None:
    """Show a question, read your answer (typed, spoken or recorded), grade it and show feedback."""
    state: State = ctx.obj.use_course(course)
    if as_json:  # stdout carries the JSON alone
        state.console = Console(stdout=sys.stderr)
    bank = state.bank()
    rubric = bank.get(question_id) if question_id else random.choice(bank.rubrics)
    state.check_reviewed([rubric], allow_drafts)
    answers = _answers(state, voice, speak, audio)
    drill = state.drill("ask")
    _spoken(drill.session, answers)
    drill.run([rubric])
    _finish(drill.session)
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
    limit: Annotated[int, typer.Option(min=1, help="At most N questions.")] = 10,
    course: CourseOption = None,
    voice: VoiceOption = False,
    speak: SpeakOption = False,
    allow_drafts: AllowDraftsOption = False,
) -> None:
    """Today's recall session: due reviews first, then new questions in deck order."""
    from tutor.learner.scheduler import next_due, todays_queue

    state: State = ctx.obj.use_course(course)
    bank = state.bank()
    check_filters(bank, day, section)
    history = state.history()
    if question:
        queue = [bank.get(question)]
    else:
        queue = todays_queue(bank, history, bank.select(day=day and day.strip(),
                                                        section=section and section.strip()))[:limit]
    if not queue:
        due = next_due(history)
        when = f" Next review: {due.astimezone():%Y-%m-%d %H:%M}." if due else ""
        state.console.print(f"Nothing due and nothing new for this selection.{when}")
        return
    state.check_reviewed(queue, allow_drafts)
    answers = _answers(state, voice, speak)
    drill_session = state.drill("drill", history)
    _spoken(drill_session.session, answers)
    drill_session.run(queue)
    _finish(drill_session.session)


@app.command()
def explain(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="A section (§4.3), a question id or a title word (GQA).")],
    rounds: Annotated[int, typer.Option(min=0, help="At most N follow-up questions (0: none).")] = 3,
    course: CourseOption = None,
    voice: VoiceOption = False,
    speak: SpeakOption = False,
    allow_drafts: AllowDraftsOption = False,
) -> None:
    """Explain a topic in your own words (typed or spoken); the examiner probes what you missed."""
    from tutor.learner.examiner import Examiner, resolve_topic

    state: State = ctx.obj.use_course(course)
    label, rubrics = resolve_topic(state.bank(), topic)
    state.check_reviewed(rubrics, allow_drafts)
    answers = _answers(state, voice, speak)
    session = _spoken(state.session("explain"), answers)
    Examiner(session, label, rubrics, rounds).run()
    _finish(session)


@app.command()
def stats(ctx: typer.Context, course: CourseOption = None) -> None:
    """Mastery per day and section, due counts, recent scores and what to re-read."""
    from tutor.learner.stats import render_stats

    state: State = ctx.obj.use_course(course)
    for block in render_stats(state.history(), state.bank()):
        state.console.print(block)


ReportOption = Annotated[str | None, typer.Option(
    "--report", metavar="LAST|ID", help="Show an earlier exam's report (LAST or its number) "
                                        "instead of sitting one.")]


@app.command()
def exam(
    ctx: typer.Context,
    questions: Annotated[int, typer.Option(min=1, max=50, help="How many questions.")] = 5,
    minutes: Annotated[float | None, typer.Option(
        min=0.5, max=600, help="The exam's time (default: 3 minutes a question).")] = None,
    question: Annotated[list[str] | None, typer.Option(
        "--question", help="Ask this question (repeat the option); default: drawn from history.")] = None,
    follow_ups: Annotated[int, typer.Option(
        "--follow-ups", min=0, max=2, help="At most N follow-up questions per answer.")] = 2,
    report: ReportOption = None,
    html: Annotated[Path | None, typer.Option(
        "--html", help="Where to write the HTML report (default: exams/ in the data folder).")] = None,
    course: CourseOption = None,
    voice: VoiceOption = False,
    speak: SpeakOption = False,
    allow_drafts: AllowDraftsOption = False,
) -> None:
    """A mock oral exam: questions across the module, follow-ups, a clock, then a report."""
    from tutor.learner.exam import Exam

    state: State = ctx.obj.use_course(course)
    history = state.history()
    if report is not None:
        _show_report(state, history, _exam_id(history, report), html)
        return
    queue = _exam_questions(state, history, question, questions, allow_drafts)
    answers = _answers(state, voice, speak)
    session = _spoken(state.session("exam", history), answers)
    record = Exam(session, queue, minutes or 3.0 * len(queue), state.explainer(),
                  follow_ups=follow_ups).run()
    if record.items:
        _show_report(state, history, record.session_id, html)
    _finish(session)


def _exam_questions(state: State, history: "History", asked: list[str] | None, count: int,
                    allow_drafts: bool) -> "list[Rubric]":
    """The questions named, else `count` drawn from the course, weighted by the history."""
    from tutor.learner.exam import pick_questions

    bank = state.bank()
    if asked:
        queue = [bank.get(q) for q in asked]
        state.check_reviewed(queue, allow_drafts)
        return queue
    rubrics = [r for r in bank.rubrics if r.reviewed or allow_drafts]
    if not rubrics:
        raise TutorError("no reviewed questions in this course (pass --allow-drafts to use drafts)")
    return pick_questions(rubrics, history, count, random.Random())


def _exam_id(history: "History", wanted: str) -> int:
    """LAST or an exam's number, checked against the exams kept (exit 2 otherwise)."""
    ids = [row["id"] for row in history.exams()]
    if not ids:
        raise TutorError("--report: no exam is kept yet (sit one with `tutor exam`)")
    if wanted.strip().upper() == "LAST":
        return int(ids[-1])
    if not wanted.strip().isdigit() or int(wanted) not in ids:
        raise TutorError(f"--report: no exam '{wanted}' (LAST, or one of: {', '.join(map(str, ids))})")
    return int(wanted)


def _show_report(state: State, history: "History", exam_id: int, html: Path | None) -> None:
    from tutor.core import paths
    from tutor.learner.exam import ExamRecord
    from tutor.learner.exam_report import build, terminal, write_html

    records = [ExamRecord.model_validate_json(row["transcript_json"]) for row in history.exams()]
    record = next(r for r in records if r.session_id == exam_id)
    built = build(record, state.bank(), records)
    for block in terminal(built):
        state.console.print(block)
    target = html or paths.data_dir() / "exams" / f"exam-{exam_id}.html"
    state.console.print(f"Report: {write_html(built, target)}")
