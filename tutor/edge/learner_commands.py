"""The learner's commands: `ask`, `drill`, `explain` (one session loop) and `stats`."""

import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tutor.core.console import Console
from tutor.core.errors import ExitCode, TutorError
from tutor.edge.app import AllowDraftsOption, CourseOption, State, app, check_filters

if TYPE_CHECKING:
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
