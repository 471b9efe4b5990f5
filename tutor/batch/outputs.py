"""What a batch leaves in --out: gradebook.csv, feedback/*.md, problems.csv, report.html."""

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from tutor.bank import Bank
from tutor.batch.inputs import Rejected
from tutor.feedback import doubt_lines
from tutor.grade import Band, Grade, Outcome


def _safe_name(student: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", student).strip("._") or "student"


def write_gradebook(path: Path, bank: Bank, rows: list[dict]) -> None:
    questions = [r.id for r in bank.rubrics if any(row["question_id"] == r.id for row in rows)]
    scores: dict[str, dict[str, float | None]] = defaultdict(dict)
    review: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        scores[row["student"]][row["question_id"]] = row["score"]
        if row["grade"].get("review"):
            review[row["student"]].append(row["question_id"])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *questions, "total", "needs review"])
        for student in sorted(scores):
            cells = [scores[student].get(q) for q in questions]
            total = round(sum(c for c in cells if c is not None), 3)
            writer.writerow([csv_cell(student), *("" if c is None else f"{c:.3f}" for c in cells),
                             f"{total:.3f}", " ".join(review[student])])


def csv_cell(value: object) -> str:
    """Text a spreadsheet would run as a formula starts with a quote instead."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_problems(path: Path, rejected: list[Rejected], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "student", "question", "problem"])
        for item in rejected:
            writer.writerow(map(csv_cell, [item.source, item.student, item.question[:80], item.reason]))
        for row in rows:
            grade = Grade.model_validate(row["grade"])
            if grade.status == "ungraded":
                problem = grade.reason or ""
            elif not row["answer"].strip():
                problem = "empty answer"
            else:
                continue
            writer.writerow(map(csv_cell, [row["source"], row["student"], row["question_id"], problem]))


def _feedback_block(bank: Bank, row: dict) -> list[str]:
    rubric, grade = bank.get(row["question_id"]), Grade.model_validate(row["grade"])
    lines = [f"## {rubric.id}: {rubric.question}", ""]
    if grade.status == "ungraded":
        return lines + [f"Could not grade: {grade.reason}", ""]
    lines.append(f"Score {grade.score:.2f} ({grade.band.value})")
    lines += [f"- note: {n}" for n in grade.notices]
    lines += [f"- {line}" for line in doubt_lines(grade)]
    for v in grade.verdicts:
        if v.outcome == Outcome.HIT:
            lines.append(f"- ✓ {v.claim}" + (f" — you wrote “{v.evidence}”" if v.evidence else ""))
        elif v.outcome in (Outcome.MISS, Outcome.WRONG):
            extra = f" → {v.detail}" if v.detail else ""
            lines.append(f"- ✗ {'wrong' if v.outcome == Outcome.WRONG else 'missing'}: {v.claim}{extra}")
    if grade.missed():
        lines += [f"- re-read explainer {ref.label}" for ref in rubric.refs]
    return lines + [""]


def write_feedback(folder: Path, bank: Bank, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_student[row["student"]].append(row)
    for student, own in by_student.items():
        lines = [f"# Feedback for {student}", ""]
        for row in own:
            lines += _feedback_block(bank, row)
        (folder / f"{_safe_name(student)}.md").write_text("\n".join(lines), encoding="utf-8")


def report_data(bank: Bank, rows: list[dict]) -> dict:
    graded = [(r, Grade.model_validate(r["grade"])) for r in rows if r["status"] == "graded"]
    bins = [0] * 10
    for _, g in graded:
        bins[min(9, int(g.score * 10))] += 1
    per_question: dict[str, list[float]] = defaultdict(list)
    missed: Counter = Counter()
    sections: Counter = Counter()
    for row, g in graded:
        per_question[row["question_id"]].append(g.score)
        for v in g.missed():
            missed[(row["question_id"], v.claim)] += 1
            for ref in bank.get(row["question_id"]).refs:
                sections[ref.label] += 1
    means = [(qid, sum(s) / len(s), len(s)) for qid, s in per_question.items()]
    lowest = sorted(graded, key=lambda pair: pair[1].score)[:10]
    bands = Counter(g.band.value for _, g in graded)
    # most doubtful first: checking in this order finds the most wrong bands per answer read
    to_review = sorted(((r, g) for r, g in graded if g.review),
                       key=lambda pair: pair[1].band_probability or 0.0)  # None: not flagged
    return {"bins": bins, "means": sorted(means, key=lambda m: m[1]), "missed": missed.most_common(12),
            "sections": sections.most_common(8), "lowest": [(r, g) for r, g in lowest],
            "to_review": to_review,
            "bands": [(b.value, bands[b.value]) for b in Band], "count": len(graded),
            "ungraded": len(rows) - len(graded), "questions": {r.id: r.question for r in bank.rubrics}}


def write_report(path: Path, bank: Bank, rows: list[dict]) -> None:
    env = Environment(loader=PackageLoader("tutor.batch", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    path.write_text(env.get_template("report.html.j2").render(**report_data(bank, rows)), encoding="utf-8")


def write_all(out: Path, bank: Bank, rows: list[dict], rejected: list[Rejected]) -> None:
    write_gradebook(out / "gradebook.csv", bank, rows)
    write_problems(out / "problems.csv", rejected, rows)
    write_feedback(out / "feedback", bank, rows)
    write_report(out / "report.html", bank, rows)
