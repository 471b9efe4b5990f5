"""The learner's commands: `ask`, `drill`, `explain` (one session loop) and `stats`."""

import random
from typing import Annotated

import typer

from tutor.core.errors import TutorError
from tutor.edge.app import CourseOption, State, app, check_day


@app.command()
def ask(ctx: typer.Context,
        question_id: Annotated[str | None, typer.Argument(help="Default: a random question.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Also print the Grade as JSON.")] = False,
        course: CourseOption = None,
        ) -> None:
    """Show a question, read your typed answer, grade it and show feedback."""
    state: State = ctx.obj.use_course(course)
    bank = state.bank()
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
    course: CourseOption = None,
) -> None:
    """Today's recall session: due reviews first, then new questions in deck order."""
    from tutor.learner.scheduler import next_due, todays_queue

    state: State = ctx.obj.use_course(course)
    bank = state.bank()
    check_day(day)
    history = state.history()
    if question:
        queue = [bank.get(question)]
    else:
        queue = todays_queue(bank, history, bank.select(day=day, section=section))[:limit]
    if not queue:
        due = next_due(history)
        when = f" Next review: {due.astimezone():%Y-%m-%d %H:%M}." if due else ""
        state.console.print(f"Nothing due and nothing new for this selection.{when}")
        return
    state.drill("drill", history).run(queue)


@app.command()
def explain(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="A section (§4.3), a question id or a title word (GQA).")],
    rounds: Annotated[int, typer.Option(help="At most N follow-up questions.")] = 3,
    course: CourseOption = None,
) -> None:
    """Explain a topic in your own words; the examiner probes what you missed."""
    from tutor.learner.examiner import Examiner, resolve_topic

    state: State = ctx.obj.use_course(course)
    label, rubrics = resolve_topic(state.bank(), topic)
    Examiner(state.session("explain"), label, rubrics, rounds).run()


@app.command()
def stats(ctx: typer.Context, course: CourseOption = None) -> None:
    """Mastery per day and section, due counts, recent scores and what to re-read."""
    from tutor.learner.stats import render_stats

    state: State = ctx.obj.use_course(course)
    for block in render_stats(state.history(), state.bank()):
        state.console.print(block)
