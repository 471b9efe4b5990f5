"""The exam's report: the same content in the terminal and in one self-contained HTML file.

The overall mark is never a bare number when the grader is unsure. Each graded answer's
score is a distribution: its least certain verdicts are enumerated with their probabilities
(as the band probability is found), and the answers' distributions are combined exactly
(scores in hundredths, convolved). The report gives the expected mark, a 90% range and the
chance of each band. Sections to re-read are ordered by the mark they would add: each
question's lost score (over the exam's question count) goes to the sections it points to.

Learner text is untrusted: rich markup is escaped in the terminal, Jinja's autoescape and
`safe_text` apply in the HTML, and the page runs no script.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from itertools import product
from pathlib import Path

from jinja2 import Environment, PackageLoader
from rich.console import RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from tutor.core.bank import Bank
from tutor.core.console import safe_text, score_text
from tutor.core.decide import MAX_ENUMERATED, compute_score, judged_outcome
from tutor.core.feedback import doubt_lines, reread_text, verdict_text
from tutor.core.grader import TERM_LIST_NOTICE
from tutor.core.result import DEFAULT_CUTOFFS, Band, Grade, Outcome
from tutor.core.rubric import Rubric
from tutor.learner.exam import ExamItem, ExamRecord, clock_text

RANGE = 0.9  # the share of the mark's distribution that its range holds


# ---- the mark --------------------------------------------------------------------------------

def score_distribution(rubric: Rubric, grade: Grade) -> dict[int, float]:
    """The answer's score in hundredths → its probability, from the verdicts' confidences."""
    outcome = {v.point_id: v.outcome for v in grade.verdicts}
    score = grade.score or 0.0
    term_list = TERM_LIST_NOTICE in grade.notices
    judged = sorted((v for v in grade.verdicts if v.kind != "numeric" and 0.02 < v.confidence < 0.98),
                    key=lambda v: abs(v.confidence - 0.5))[:MAX_ENUMERATED]
    found: dict[int, float] = defaultdict(float)
    if not judged:
        return {round(score * 100): 1.0}
    for stated in product((False, True), repeat=len(judged)):
        chance, trial = 1.0, dict(outcome)
        for verdict, said in zip(judged, stated, strict=True):
            chance *= verdict.confidence if said else 1 - verdict.confidence
            trial[verdict.point_id] = judged_outcome(verdict.kind, said)
        found[round(compute_score(rubric, trial, term_list) * 100)] += chance
    return dict(found)


@dataclass(frozen=True)
class Mark:
    """The exam's mark over the questions counted: expected value, 90% range, band chances."""

    expected: float
    low: float
    high: float
    bands: dict[Band, float]
    counted: int

    @property
    def sure(self) -> bool:
        return self.high - self.low < 0.01

    @property
    def band(self) -> Band:
        return max(self.bands, key=lambda b: self.bands[b])

    def text(self) -> str:
        """"0.62, likely 0.55–0.70; partial 78%, full 15%, fail 7%", or the sure form."""
        if self.sure:
            return f"{score_text(self.expected)} ({self.band.value}; the grader is sure)"
        chances = ", ".join(f"{b.value} {p:.0%}" for b, p in sorted(self.bands.items(), key=lambda i: -i[1])
                            if p >= 0.005)
        return (f"{score_text(self.expected)}, likely {score_text(self.low)}–{score_text(self.high)}; "
                f"{chances}")


def combine(distributions: list[dict[int, float]]) -> dict[int, float]:
    """The distribution of the summed scores (in hundredths)."""
    total: dict[int, float] = {0: 1.0}
    for one in distributions:
        step: dict[int, float] = defaultdict(float)
        for a, pa in total.items():
            for b, pb in one.items():
                step[a + b] += pa * pb
        total = dict(step)
    return total


def overall_mark(items: list[tuple[ExamItem, Rubric]]) -> Mark | None:
    """The mark over answered questions: a skipped question or /idk counts 0, one the judge
    could not grade or the exam never finished is left out. None when nothing counts."""
    distributions = []
    for item, rubric in items:
        if item.outcome in ("skipped", "idk"):
            distributions.append({0: 1.0})
        elif item.outcome == "graded" and item.grade is not None:
            distributions.append(score_distribution(rubric, item.grade))
    if not distributions:
        return None
    n = len(distributions)
    summed = sorted(combine(distributions).items())
    cutoffs = items[0][1].bands or DEFAULT_CUTOFFS
    expected = sum(s * p for s, p in summed) / (100 * n)
    bands = dict.fromkeys(Band, 0.0)
    for s, p in summed:
        bands[Band.of(s / (100 * n), cutoffs)] += p
    return Mark(round(expected, 3), _quantile(summed, (1 - RANGE) / 2) / (100 * n),
                _quantile(summed, (1 + RANGE) / 2) / (100 * n), bands, n)


def _quantile(summed: list[tuple[int, float]], q: float) -> int:
    seen = 0.0
    for value, p in summed:
        seen += p
        if seen >= q - 1e-9:
            return value
    return summed[-1][0]


# ---- what to re-read -------------------------------------------------------------------------

@dataclass
class Section:
    label: str
    gain: float = 0.0  # what the exam's mark would gain with every missed point here stated
    missed: list[str] = field(default_factory=list)  # the points missed, as the rubric says them
    questions: list[str] = field(default_factory=list)


def sections_to_reread(items: list[tuple[ExamItem, Rubric]], counted: int) -> list[Section]:
    """Sections ordered by the mark they would add: a question's lost score, over the number
    of questions counted, goes to each section its rubric points to."""
    found: dict[str, Section] = {}
    for item, rubric in items:
        lost, missed = _lost(item, rubric)
        if lost <= 0:
            continue
        for ref in rubric.refs:
            section = found.setdefault(ref.label, Section(ref.label))
            section.gain += lost / max(1, counted)
            section.missed += missed
            section.questions.append(rubric.id)
    return sorted(found.values(), key=lambda s: (-s.gain, s.label))


def _lost(item: ExamItem, rubric: Rubric) -> tuple[float, list[str]]:
    if item.outcome in ("skipped", "idk"):
        return 1.0, [p.claim for p in rubric.key_points]
    if item.outcome != "graded" or item.grade is None:
        return 0.0, []
    missed = [v.claim for v in item.grade.missed()]
    best = {v.point_id: _best(v.kind) for v in item.grade.verdicts}
    return max(0.0, compute_score(rubric, best) - (item.grade.score or 0.0)), missed


def _best(kind: str) -> Outcome:
    return Outcome.CLEAR if kind == "misconception" else Outcome.HIT


# ---- the report ------------------------------------------------------------------------------

@dataclass
class Past:
    """An earlier exam, as the chart and the change since then need it."""

    id: int
    started_at: str
    mark: Mark | None


@dataclass
class Report:
    record: ExamRecord
    items: list[tuple[ExamItem, Rubric]]
    mark: Mark | None
    sections: list[Section]
    past: list[Past]  # every exam kept up to this one, this one included, oldest first

    @property
    def previous(self) -> Past | None:
        earlier = [p for p in self.past if p.id != self.record.session_id and p.mark is not None]
        return earlier[-1] if earlier else None

    def change_text(self) -> str | None:
        before = self.previous
        if before is None or before.mark is None or self.mark is None:
            return None
        delta = self.mark.expected - before.mark.expected
        return (f"{delta:+.2f} since exam {before.id} ({_day(before.started_at)}): "
                f"{score_text(before.mark.expected)} → {score_text(self.mark.expected)}")

    @property
    def missed_by_section(self) -> list[tuple[str, int]]:
        return [(s.label, len(s.missed)) for s in self.sections if s.missed]


def build(record: ExamRecord, bank: Bank, earlier: list[ExamRecord]) -> Report:
    """The report of `record`; `earlier` are the exams kept before it (and it), oldest first."""
    items = [(item, rubric) for item in record.items if (rubric := bank.find(item.question_id))]
    mark = overall_mark(items)
    sections = sections_to_reread(items, mark.counted if mark else 0)
    past = [Past(r.session_id, r.started_at, _mark_of(r, bank)) for r in earlier
            if r.session_id <= record.session_id]
    return Report(record, items, mark, sections, past)


def _mark_of(record: ExamRecord, bank: Bank) -> Mark | None:
    return overall_mark([(i, r) for i in record.items if (r := bank.find(i.question_id))])


def _day(started_at: str) -> str:
    try:
        return f"{datetime.fromisoformat(started_at).astimezone():%Y-%m-%d %H:%M}"
    except ValueError:
        return started_at


# ---- terminal --------------------------------------------------------------------------------

def terminal(report: Report) -> list[RenderableType]:
    """The report for the console (every learner-written string escaped)."""
    record = report.record
    blocks: list[RenderableType] = [f"\n[bold]Exam {record.session_id}[/bold] · {_day(record.started_at)}"
                                    f" · {_status(record)}"]
    table = Table("#", "question", "band", "score", "time", "follow-ups", title="Questions")
    for number, (item, _) in enumerate(report.items, 1):
        table.add_row(str(number), item.question_id, *_cells(item))
    blocks.append(table)
    for number, (item, rubric) in enumerate(report.items, 1):
        blocks.append(_transcript_panel(number, item, rubric, record.spoken))
    blocks.append(f"[bold]Mark:[/bold] {escape(report.mark.text()) if report.mark else 'nothing graded'}")
    if report.mark and not report.mark.sure:
        blocks.append("[dim]Expected over the grader's doubt; the range holds 90% of it.[/dim]")
    if change := report.change_text():
        blocks.append(f"[bold]Change:[/bold] {escape(change)}")
    if report.sections:
        blocks.append("[bold]Re-read, most marks first:[/bold]")
    for section in report.sections:
        blocks.append(f"  +{section.gain:.2f} · re-read explainer {escape(section.label)}")
    return blocks


def _status(record: ExamRecord) -> str:
    if record.interrupted:
        return "interrupted"
    if record.time_up:
        return "ended when time was up"
    return "finished" if record.finished else "ended early"


def _cells(item: ExamItem) -> tuple[str, str, str, str]:
    follow_ups = str(sum(t.kind == "follow_up" for t in item.turns))
    spent = f"{clock_text(item.seconds)} / {clock_text(item.allowed_s)}"
    if item.outcome == "graded" and item.grade is not None:
        score, band = item.grade.decided
        unsure = " (unsure)" if item.grade.review else ""
        return band.value + unsure, score_text(score), spent, follow_ups
    return item.outcome.replace("unfinished", "not answered"), "—", spent, follow_ups


def _transcript_panel(number: int, item: ExamItem, rubric: Rubric, said: bool) -> Panel:
    lines = []
    for turn in item.turns:
        who = "[bold cyan]Examiner[/bold cyan]" if turn.role == "examiner" else "[bold]You[/bold]"
        lines.append(f"{who}: {escape(turn.text)}")
    if item.grade is not None and item.outcome == "graded":
        for right, text in filter(None, (verdict_text(v, said) for v in item.grade.verdicts)):
            lines.append(f"{'[green]✓[/green]' if right else '[red]✗[/red]'} {escape(text)}")
        lines += [escape(line) for line in doubt_lines(item.grade)]
    return Panel("\n".join(lines), title=f"{number} · {rubric.id}")


# ---- HTML ------------------------------------------------------------------------------------

def html(report: Report) -> str:
    """One self-contained page: inline CSS and SVG charts, no script, nothing fetched."""
    env = Environment(loader=PackageLoader("tutor.learner", "templates"), autoescape=True)
    env.filters["safe_text"] = safe_text
    env.filters["clock"] = clock_text
    env.filters["score"] = score_text
    return env.get_template("exam_report.html.j2").render(
        r=report, title=f"Exam {report.record.session_id}", day=_day(report.record.started_at),
        status=_status(report.record), rows=[_html_row(i, r, report.record.spoken) for i, r in report.items],
        marks=_mark_bars(report), missed=_missed_bars(report))


def _html_row(item: ExamItem, rubric: Rubric, said: bool) -> dict[str, object]:
    verdicts = []
    if item.grade is not None and item.outcome == "graded":
        verdicts = list(filter(None, (verdict_text(v, said) for v in item.grade.verdicts)))
    band, score, spent, follow_ups = _cells(item)
    return {"item": item, "rubric": rubric, "band": band, "score": score, "spent": spent,
            "follow_ups": follow_ups, "verdicts": verdicts,
            "doubts": doubt_lines(item.grade) if item.grade is not None else [],
            "reread": [reread_text(ref) for ref in rubric.refs]}


BAR_W, BAR_GAP, CHART_H = 36, 12, 120


def _mark_bars(report: Report) -> list[dict[str, object]]:
    """One bar per exam kept: its expected mark, with a line for its range."""
    bars = []
    for n, past in enumerate(p for p in report.past if p.mark is not None):
        assert past.mark is not None
        x = n * (BAR_W + BAR_GAP) + 30
        bars.append({"x": x, "mid": x + BAR_W / 2, "label": str(past.id),
                     "text": score_text(past.mark.expected),
                     "top": _y(past.mark.expected), "low": _y(past.mark.low), "high": _y(past.mark.high),
                     "this": past.id == report.record.session_id})
    return bars


def _y(value: float) -> float:
    return round(10 + CHART_H * (1 - value), 1)


def _missed_bars(report: Report) -> list[dict[str, object]]:
    """Points missed per section, as horizontal bars."""
    rows = report.missed_by_section
    most = max((count for _, count in rows), default=1)
    return [{"y": 8 + n * 26, "label": label, "count": count, "w": max(4, math.floor(260 * count / most))}
            for n, (label, count) in enumerate(rows)]


def write_html(report: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html(report), encoding="utf-8")
    return path

