"""What a batch leaves in --out: gradebook.csv, feedback/*.md, problems.csv, report.html."""

import csv
import hashlib
import heapq
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from tutor.core.bank import Bank
from tutor.core.feedback import doubt_lines, reread_text, verdict_text
from tutor.core.result import Band, Grade
from tutor.teacher.batch.inputs import Rejected

UNSAFE_IN_MARKDOWN = re.compile(r"([\\`*_\[\]()<>!#&|~])")
NAME_BYTES = 60  # the readable part of a feedback file name; with the hash, well under 100 bytes
Ranked = tuple[float, int, dict[str, Any], Grade]  # (-key, -input order, result row, grade)


def md_text(text: object) -> str:
    """Learner text made inert inside one Markdown line: no HTML, links, images or emphasis."""
    return UNSAFE_IN_MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))


def feedback_name(student: str) -> str:
    """A file name no other student gets: a readable, bounded slug and a hash of the exact name
    (so "a/b", "a b" and "a_b", or "Ann" and "ann" on a case-blind disk, stay apart)."""
    slug = re.sub(r"[^\w-]+", "_", student).strip("_-")
    slug = slug.encode()[:NAME_BYTES].decode(errors="ignore") or "student"
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{slug}-{digest}.md"


class Gradebook:
    """Students × questions, total, status and the questions to review: one small cell per answer."""

    def __init__(self, bank: Bank):
        self.bank = bank
        self.scores: dict[str, dict[str, float | None]] = defaultdict(dict)
        self.review: dict[str, list[str]] = defaultdict(list)

    def add(self, row: dict[str, Any], grade: Grade) -> None:
        self.scores[row["student"]][row["question_id"]] = row["score"]
        if grade.review:
            self.review[row["student"]].append(row["question_id"])

    def write(self, path: Path) -> None:
        present = {q for own in self.scores.values() for q in own}
        questions = [r.id for r in self.bank.rubrics if r.id in present]
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["student", *questions, "total", "status", "needs review"])
            for student in sorted(self.scores):
                cells = [self.scores[student].get(q) for q in questions]
                writer.writerow([csv_cell(student), *("" if c is None else f"{c:.3f}" for c in cells),
                                 *self._total_and_status(self.scores[student].values()),
                                 " ".join(self.review[student])])

    @staticmethod
    def _total_and_status(scores: Collection[float | None]) -> tuple[str, str]:
        """No graded answer: no total (not 0); some ungraded: the total of the graded ones."""
        graded = [s for s in scores if s is not None]
        missing = len(scores) - len(graded)
        if not graded:
            return "", "ungraded"
        return f"{round(sum(graded), 3):.3f}", f"{missing} ungraded" if missing else "graded"


def csv_cell(value: object) -> str:
    """Text a spreadsheet would run as a formula starts with a quote instead."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class Problems:
    """problems.csv: rejected rows first, then every answer that was not graded or was empty."""

    def __init__(self, path: Path, rejected: list[Rejected]):
        self.handle = path.open("w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(["source", "student", "question", "problem"])
        for item in rejected:
            self._write(item.source, item.student, item.question[:80], item.reason)

    def add(self, row: dict[str, Any], grade: Grade) -> None:
        if grade.status == "ungraded":
            self._write(row["source"], row["student"], row["question_id"], grade.reason or "")
        elif not row["answer"].strip():
            self._write(row["source"], row["student"], row["question_id"], "empty answer")

    def _write(self, *cells: str) -> None:
        self.writer.writerow(map(csv_cell, cells))

    def close(self) -> None:
        self.handle.close()


def _feedback_block(bank: Bank, row: dict[str, Any], grade: Grade) -> list[str]:
    rubric = bank.get(row["question_id"])
    lines = [f"## {rubric.id}: {rubric.question}", ""]
    if grade.status == "ungraded":
        return lines + [f"Could not grade: {md_text(grade.reason or '')}", ""]
    score, band = grade.decided
    lines.append(f"Score {score:.2f} ({band.value})")
    lines += [f"- note: {md_text(n)}" for n in grade.notices]
    lines += [f"- {line}" for line in doubt_lines(grade)]
    for right, text in filter(None, map(verdict_text, grade.verdicts)):
        lines.append(f"- {'✓' if right else '✗'} {md_text(text)}")
    if grade.missed():
        lines += [f"- {md_text(reread_text(ref))}" for ref in rubric.refs]
    return lines + [""]


class Feedback:
    """feedback/<name>.md per student, appended answer by answer (rows of one student may be
    far apart in the input); a student's file is started afresh on each run."""

    def __init__(self, folder: Path, bank: Bank):
        self.folder, self.bank = folder, bank
        self.started: set[str] = set()
        folder.mkdir(parents=True, exist_ok=True)

    def add(self, row: dict[str, Any], grade: Grade) -> None:
        student = row["student"]
        mode = "a" if student in self.started else "w"
        with (self.folder / feedback_name(student)).open(mode, encoding="utf-8") as handle:
            if mode == "w":
                handle.write(f"# Feedback for {md_text(student)}\n\n")
            handle.write("\n".join(_feedback_block(self.bank, row, grade)) + "\n")
        self.started.add(student)


class Report:
    """report.html from running totals and a few bounded lists, not from every row."""

    def __init__(self, bank: Bank):
        self.bank = bank
        self.bins = [0] * 10
        self.per_question: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])  # sum, count
        self.missed: Counter[tuple[str, str]] = Counter()
        self.sections: Counter[str] = Counter()
        self.bands: Counter[str] = Counter()
        self.lowest: list[Ranked] = []  # heap of (-score, order, row, grade): the highest goes first
        self.to_review: list[Ranked] = []  # heap of (-band probability, order, row, grade)
        self.review_count = self.ungraded = self.order = 0

    def add(self, row: dict[str, Any], grade: Grade) -> None:
        self.order += 1
        if grade.status != "graded":
            self.ungraded += 1
            return
        score, band = grade.decided
        self.bins[min(9, int(score * 10))] += 1
        self.bands[band.value] += 1
        totals = self.per_question[row["question_id"]]
        totals[0], totals[1] = totals[0] + score, totals[1] + 1
        self._count_missed(row["question_id"], grade)
        _keep_smallest(self.lowest, LOWEST, (-score, -self.order, row, grade))
        if grade.review:
            self.review_count += 1
            # most doubtful first: checking in this order finds the most wrong bands per answer read
            sure = grade.band_probability or 0.0  # None: not flagged
            _keep_smallest(self.to_review, TO_REVIEW, (-sure, -self.order, row, grade))

    def _count_missed(self, question_id: str, grade: Grade) -> None:
        for v in grade.missed():
            self.missed[(question_id, v.claim)] += 1
            for ref in self.bank.get(question_id).refs:
                self.sections[ref.label] += 1

    def data(self) -> dict[str, Any]:
        means = [(qid, total / n, n, Band.of(total / n).value)
                 for qid, (total, n) in self.per_question.items()]
        bins = [(n, Band.of(i / 10).value) for i, n in enumerate(self.bins)]  # a bin's band: its low edge
        return {"bins": bins, "peak": max(self.bins) or 1, "means": sorted(means, key=lambda m: m[1]),
                "missed": self.missed.most_common(12), "sections": self.sections.most_common(8),
                "lowest": _in_order(self.lowest), "to_review": _in_order(self.to_review),
                "review_count": self.review_count,
                "bands": [(b.value, self.bands[b.value]) for b in Band], "count": sum(self.bands.values()),
                "ungraded": self.ungraded, "questions": {r.id: r.question for r in self.bank.rubrics}}

    def write(self, path: Path) -> None:
        env = Environment(loader=PackageLoader("tutor.teacher.batch", "templates"),
                          autoescape=select_autoescape(["html", "j2"]))
        path.write_text(env.get_template("report.html.j2").render(**self.data()), encoding="utf-8")


LOWEST, TO_REVIEW = 10, 200  # rows the report lists; the gradebook names every row to review


def _keep_smallest(heap: list[Ranked], size: int, item: Ranked) -> None:
    """Keep the `size` items that sort first, in a heap whose root is the one to drop next.
    Items arrive as (-key, -order, …), so the heap root is the largest (key, order)."""
    if len(heap) < size:
        heapq.heappush(heap, item)
    elif item[:2] > heap[0][:2]:
        heapq.heapreplace(heap, item)


def _in_order(heap: list[Ranked]) -> list[tuple[dict[str, Any], Grade]]:
    """(row, grade) by key, then input order, as a full sort would give."""
    return [(row, grade) for _, _, row, grade in sorted(heap, key=lambda item: (-item[0], -item[1]))]


def write_all(out: Path, bank: Bank, rows: Iterable[dict[str, Any]], rejected: list[Rejected]) -> None:
    """Every output from one pass over the results; each row's grade is parsed once."""
    book, feedback, report = Gradebook(bank), Feedback(out / "feedback", bank), Report(bank)
    problems = Problems(out / "problems.csv", rejected)
    try:
        for row in rows:
            grade = Grade.model_validate(row["grade"])
            for sink in (book, problems, feedback, report):
                sink.add(row, grade)
    finally:
        problems.close()
    book.write(out / "gradebook.csv")
    report.write(out / "report.html")
