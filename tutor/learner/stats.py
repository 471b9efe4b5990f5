"""`tutor stats`: mastery per day and section, due counts, recent scores, what to re-read."""

import json
from collections import Counter
from datetime import datetime

from fsrs import Card
from rich.console import RenderableType
from rich.markup import escape
from rich.table import Table

from tutor.core.bank import Bank
from tutor.learner.history import History, now

BAR = 20


def latest_scores(history: History) -> dict[str, float]:
    latest: dict[str, float] = {}
    for row in history.attempts():
        if row["status"] == "graded":
            latest[row["question_id"]] = row["score"]
    return latest


def _bar(value: float) -> str:
    filled = round(value * BAR)
    return "█" * filled + "·" * (BAR - filled)


def mastery_table(title: str, groups: dict[str, list[str]], latest: dict[str, float],
                  due: set[str]) -> Table:
    table = Table(title, "answered", "mastery", "", "due", title=f"Mastery by {title}")
    for name, ids in groups.items():
        mastery = sum(latest.get(i, 0.0) for i in ids) / len(ids)
        answered = sum(i in latest for i in ids)
        table.add_row(name, f"{answered}/{len(ids)}", f"{mastery:.2f}", _bar(mastery),
                      str(sum(i in due for i in ids)))
    return table


def due_ids(history: History, when: datetime | None = None) -> set[str]:
    when = when or now()
    return {qid for qid, data in history.cards().items() if Card.from_dict(data).due <= when}


def reread_counts(history: History, bank: Bank) -> Counter[str]:
    """How often each section was pointed to by a missed or wrong point."""
    counts: Counter[str] = Counter()
    known = {r.id for r in bank.rubrics}
    for row in history.attempts():
        if row["question_id"] not in known:
            continue
        grade = json.loads(row["grade_json"])
        misses = sum(v["outcome"] in ("miss", "wrong") for v in grade.get("verdicts", []))
        if misses or row["kind"] == "idk":
            for ref in bank.get(row["question_id"]).refs:
                counts[ref.label] += max(1, misses)
    return counts


def render_stats(history: History, bank: Bank) -> list[RenderableType]:
    latest, due = latest_scores(history), due_ids(history)
    by_day: dict[str, list[str]] = {}
    by_chapter: dict[str, list[str]] = {}
    for rubric in bank.rubrics:
        by_day.setdefault(rubric.day.value, []).append(rubric.id)
        for section in rubric.sections():
            chapter = "ELI5" if section == "ELI5" else f"§{section.split('.')[0]}"
            by_chapter.setdefault(chapter, []).append(rubric.id)
    recent = Table("when", "question", "score", "band", title="Recent attempts")
    for row in history.attempts()[-10:]:
        score = "—" if row["score"] is None else f"{row['score']:.2f}"
        recent.add_row(row["created_at"][:16].replace("T", " "), row["question_id"], score,
                       row["band"] or row["status"])
    reread = Table("section", "misses", title="Sections to re-read most")
    for label, count in reread_counts(history, bank).most_common(5):
        reread.add_row(escape(label), str(count))
    return [mastery_table("day", by_day, latest, due), mastery_table("section", by_chapter, latest, due),
            recent, reread, f"Due now: {len(due)} · answered: {len(latest)}/{len(bank)}"]
