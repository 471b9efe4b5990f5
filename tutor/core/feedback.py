"""Turning a `Grade` into feedback a learner can act on."""

from collections.abc import Callable

from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from tutor.core.answer import best_quote, split_sentences
from tutor.core.explainer_doc import Explainer
from tutor.core.result import Band, Grade, Outcome, Verdict
from tutor.core.rubric import Rubric, SectionRef

BAND_STYLE = {Band.FULL: "bold green", Band.PARTIAL: "bold yellow", Band.FAIL: "bold red"}


def _same(text: str) -> str:
    return text


def verdict_text(verdict: Verdict, said: bool = False, text: Callable[[str], str] = _same,
                 quote: Callable[[str], str] = _same) -> tuple[bool, str] | None:
    """The one wording of a verdict, as plain text (each renderer escapes it for its medium:
    `text` for the rubric's words, `quote` for the learner's evidence): (whether it is right,
    the sentence); None for a misconception the answer avoided. `said`: the answer was spoken."""
    claim = text(verdict.claim)
    if verdict.kind == "numeric":
        return verdict.outcome == Outcome.HIT, f"{claim}: {text(verdict.detail or '')}"
    if verdict.outcome == Outcome.HIT:
        wrote = "said" if said else "wrote"
        return True, claim + (f" — you {wrote} “{quote(verdict.evidence)}”" if verdict.evidence else "")
    if verdict.outcome == Outcome.MISS:
        return False, f"missing: {claim}"
    if verdict.outcome == Outcome.WRONG:
        evidence = f" (“{quote(verdict.evidence)}”)" if verdict.evidence else ""
        return False, f"wrong: {claim}{evidence} → {text(verdict.detail or '')}"
    return None


def reread_text(ref: SectionRef, explainer: Explainer | None = None) -> str:
    """"re-read explainer §4.3 — MQA vs GQA", with the title from the learner's explainer."""
    titled = ref.model_copy(update={"title": explainer.title(ref)}) if explainer else ref
    return f"re-read explainer {titled.label}"


def feedback_lines(grade: Grade, said: bool = False) -> list[str]:
    lines = [escape(n) for n in grade.notices]
    for right, text in filter(None, (verdict_text(v, said) for v in grade.verdicts)):
        lines.append(f"{'[green]✓[/green]' if right else '[red]✗[/red]'} {escape(text)}")
    return lines + [escape(line) for line in doubt_lines(grade)]


def doubt_lines(grade: Grade) -> list[str]:
    """What the grader is unsure of, in plain words (terminal and Markdown alike)."""
    if not grade.review:
        return []
    unsure = {v.point_id: v for v in grade.verdicts}
    lines = [f"? The grader is not sure of this band (about {grade.band_probability:.0%} sure); "
             "a follow-up question or a teacher should check it."]
    lines += [f"? unsure whether you stated: {unsure[p].claim}" for p in grade.uncertain if p in unsure]
    return lines


def clarifying_question(rubric: Rubric, grade: Grade, answer: str, said: bool = False) -> str | None:
    """One question that settles the grader's doubt, without giving the point away:
    the rubric's examiner question for the least certain key point, else a request to say
    more about the learner's own sentence."""
    for point_id in grade.uncertain:
        asked = rubric.follow_up_for(point_id)
        if asked:
            return asked
    for verdict in grade.verdicts:
        if verdict.point_id in grade.uncertain:
            quote = verdict.evidence or best_quote(verdict.claim, split_sentences(answer))
            if quote:
                wrote = "said" if said else "wrote"
                return f"You {wrote} “{quote}”. Say precisely what you mean there, in a sentence or two."
    return None


def reread_lines(rubric: Rubric, grade: Grade, explainer: Explainer | None) -> list[str]:
    if not grade.missed():
        return []
    lines = []
    for ref in rubric.refs:
        lines.append(escape(reread_text(ref, explainer)))
        text = explainer.text(ref) if explainer else None
        if text:
            lines.append(f"[dim]{escape(text[:600])}[/dim]")
    return lines


def render(rubric: Rubric, grade: Grade, explainer: Explainer | None = None, said: bool = False) -> Panel:
    if grade.status == "ungraded":
        body = f"[bold red]Could not grade:[/bold red] {escape(grade.reason or '')}"
        return Panel(body, title=rubric.id)
    table = Table.grid(padding=(0, 1))
    for line in feedback_lines(grade, said) + reread_lines(rubric, grade, explainer):
        table.add_row(line)
    score, band = grade.decided
    style = BAND_STYLE[band]
    unsure = " · [yellow]unsure[/yellow]" if grade.review else ""
    title = f"{rubric.id} · score {score:.2f} · [{style}]{band.value}[/{style}]{unsure}"
    return Panel(table, title=title, subtitle=f"[dim]{grade.model or 'no model call'}[/dim]")
