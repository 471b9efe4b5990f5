"""What a batch leaves in --out: gradebook.csv, feedback/*.md, problems.csv, report.html.

problems.csv is the batch's own (what could not be read or graded). gradebook.csv,
feedback/ and report.html show the grades as the teacher left them: the machine's grades
with the overrides in overrides.jsonl (`tutor.teacher.overrides`), so `write_marks` makes
them again from the folder alone after each change on the review page."""

import csv
import fcntl
import hashlib
import heapq
import os
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from jinja2 import Environment, PackageLoader, select_autoescape

from tutor.core.bank import Bank
from tutor.core.console import safe_text
from tutor.core.feedback import doubt_lines, reread_text, verdict_text
from tutor.core.result import Band, Grade
from tutor.teacher.batch.inputs import Rejected
from tutor.teacher.overrides import NOT_IN_RESULTS, OVERRIDES, Override, Review, Reviewed, load, results

UNSAFE_IN_MARKDOWN = re.compile(r"([\\`*_\[\]()<>!#&|~])")
NAME_BYTES = 60  # the readable part of a feedback file name; with the hash, well under 100 bytes
Ranked = tuple[float, int, dict[str, Any], Grade]  # (-key, -input order, result row, grade)
OUTPUTS_LOCK = ".tutor-outputs.lock"


def md_text(text: object) -> str:
    """Learner text made inert inside one Markdown line: no HTML, links, images or emphasis."""
    return UNSAFE_IN_MARKDOWN.sub(r"\\\1", " ".join(safe_text(str(text)).split()))


def feedback_name(student: str) -> str:
    """A file name no other student gets: a readable, bounded slug and a hash of the exact name
    (so "a/b", "a b" and "a_b", or "Ann" and "ann" on a case-blind disk, stay apart)."""
    slug = re.sub(r"[^\w-]+", "_", student).strip("_-")
    slug = slug.encode()[:NAME_BYTES].decode(errors="ignore") or "student"
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{slug}-{digest}.md"


class Gradebook:
    """Students × questions, total, status and the questions to review: one small cell per answer.
    Once a teacher has reviewed (overrides.jsonl exists), two more columns name the questions
    whose mark a person changed and those with stale overrides."""

    def __init__(self, bank: Bank, reviewed_columns: bool = False):
        self.bank, self.reviewed_columns = bank, reviewed_columns
        self.scores: dict[str, dict[str, float | None]] = defaultdict(dict)
        self.review: dict[str, list[str]] = defaultdict(list)
        self.changed: dict[str, list[str]] = defaultdict(list)
        self.stale: dict[str, list[str]] = defaultdict(list)

    def add(self, item: Reviewed) -> None:
        (student, question), grade = item.key, item.grade
        self.scores[student][question] = grade.score
        for flagged, names in ((grade.review, self.review), (item.changed, self.changed),
                               (item.stale, self.stale)):
            if flagged:
                names[student].append(question)

    def add_orphans(self, orphans: Iterable[Override]) -> None:
        for override in orphans:
            if override.student in self.scores and override.question_id not in self.stale[override.student]:
                self.stale[override.student].append(override.question_id)

    def write(self, path: Path) -> None:
        present = {q for own in self.scores.values() for q in own}
        questions = [r.id for r in self.bank.rubrics if r.id in present]
        extra = ["changed by reviewer", "stale overrides"] if self.reviewed_columns else []
        with _replacing(path) as handle:
            writer = csv.writer(handle)
            writer.writerow(["student", *questions, "total", "status", "needs review", *extra])
            for student in sorted(self.scores):
                cells = [self.scores[student].get(q) for q in questions]
                named = (self.review, self.changed, self.stale)[:len(extra) + 1]
                writer.writerow([csv_cell(student), *("" if c is None else f"{c:.3f}" for c in cells),
                                 *self._total_and_status(self.scores[student].values()),
                                 *(" ".join(names[student]) for names in named)])

    @staticmethod
    def _total_and_status(scores: Collection[float | None]) -> tuple[str, str]:
        """No graded answer: no total (not 0); some ungraded: the total of the graded ones."""
        graded = [s for s in scores if s is not None]
        missing = len(scores) - len(graded)
        if not graded:
            return "", "ungraded"
        return f"{round(sum(graded), 3):.3f}", f"{missing} ungraded" if missing else "graded"


def csv_cell(value: object) -> str:
    """Text a spreadsheet would run as a formula starts with a quote instead; control
    characters (ESC, …) show as symbols (`safe_text`)."""
    text = "" if value is None else safe_text(str(value))
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


def heard_text(row: dict[str, Any]) -> str:
    """What was graded for a recorded answer: the recording and its transcript."""
    name, seconds = Path(str(row.get("audio", ""))).name, row.get("audio_seconds") or 0.0
    return f"Your recording {name} ({seconds:.0f} s) was heard as: {row['answer']}"


def _feedback_block(bank: Bank, row: dict[str, Any], grade: Grade,
                    changed_by: Override | None = None) -> list[str]:
    rubric = bank.get(row["question_id"])
    lines = [f"## {rubric.id}: {rubric.question}", ""]
    if grade.status == "ungraded":
        return lines + [f"Could not grade: {md_text(grade.reason or '')}", ""]
    score, band = grade.decided
    lines.append(f"Score {score:.2f} ({band.value})")
    if row.get("transcript"):
        lines.append(f"- {md_text(heard_text(row))}")
    if changed_by:
        reason = f": {md_text(changed_by.reason)}" if changed_by.reason.strip() else "."
        lines.append(f"- Mark changed by {md_text(changed_by.reviewer)}{reason}")
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

    def add(self, item: Reviewed) -> None:
        student = item.row["student"]
        mode = "a" if student in self.started else "w"
        with (self.folder / feedback_name(student)).open(mode, encoding="utf-8") as handle:
            if mode == "w":
                handle.write(f"# Feedback for {md_text(student)}\n\n")
            block = "\n".join(_feedback_block(self.bank, item.row, item.grade, item.changed_by))
            handle.write(safe_text(block) + "\n")
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
        self.changed: list[dict[str, Any]] = []  # answers a person changed (people make few)
        self.stale: list[dict[str, Any]] = []  # overrides that no longer apply
        self.changed_count = self.reviewed_count = self.stale_count = 0

    def add(self, item: Reviewed) -> None:
        self._add_review(item)
        self._add_grade(item.row, item.grade)

    def _add_review(self, item: Reviewed) -> None:
        self.reviewed_count += item.reviewed
        if item.changed:
            self.changed_count += 1
            if len(self.changed) < LISTED:
                self.changed.append({"student": item.key[0], "question_id": item.key[1],
                                     "before": _mark(item.machine), "after": _mark(item.grade),
                                     "by": item.changed_by})
        for override, why in zip(item.stale, item.why_stale, strict=True):
            self.add_stale(override, why)

    def add_stale(self, override: Override, why: str) -> None:
        if len(self.stale) < LISTED:
            self.stale.append({"override": override, "why": why})
        self.stale_count += 1

    def _add_grade(self, row: dict[str, Any], grade: Grade) -> None:
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
        means = [(qid, total / n, n, self.bank.get(qid).band_of(total / n).value)
                 for qid, (total, n) in self.per_question.items()]
        bins = [(n, Band.of(i / 10, self.bank.cutoffs).value)  # a bin's band: its low edge, by the course
                for i, n in enumerate(self.bins)]
        return {"bins": bins, "peak": max(self.bins) or 1, "means": sorted(means, key=lambda m: m[1]),
                "missed": self.missed.most_common(12), "sections": self.sections.most_common(8),
                "lowest": _in_order(self.lowest), "to_review": _in_order(self.to_review),
                "review_count": self.review_count,
                "changed": self.changed, "changed_count": self.changed_count, "stale": self.stale,
                "stale_count": self.stale_count, "reviewed_count": self.reviewed_count,
                "bands": [(b.value, self.bands[b.value]) for b in Band], "count": sum(self.bands.values()),
                "ungraded": self.ungraded, "questions": {r.id: r.question for r in self.bank.rubrics}}

    def write(self, path: Path) -> None:
        env = Environment(loader=PackageLoader("tutor.teacher.batch", "templates"),
                          autoescape=select_autoescape(["html", "j2"]))
        page = safe_text(env.get_template("report.html.j2").render(**self.data()))
        with _replacing(path) as handle:
            handle.write(page)


LOWEST, TO_REVIEW = 10, 200  # rows the report lists; the gradebook names every row to review
LISTED = 500  # changed answers and stale overrides the report lists (all are counted)


def _mark(grade: Grade) -> str:
    """"0.62 partial", or "ungraded"."""
    return f"{grade.score:.2f} {grade.band.value}" if grade.score is not None and grade.band else "ungraded"


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


@dataclass
class Marks:
    """What writing the marks found beyond the grades: for the command to report."""

    changed: int = 0  # answers whose mark a person changed
    stale: int = 0  # overrides that no longer apply (answer or rubric changed, answer gone)
    damaged: list[str] = field(default_factory=list)  # overrides.jsonl lines skipped: "file:line: why"


def write_all(out: Path, bank: Bank, rows: Iterable[dict[str, Any]], rejected: list[Rejected]) -> Marks:
    """Every output from one pass over the results; each row's grade is parsed once."""
    with outputs_locked(out):
        problems = Problems(out / "problems.csv", rejected)
        try:
            return _write_marks(out, bank, rows, problems)
        finally:
            problems.close()


def write_marks(out: Path, bank: Bank) -> Marks:
    """gradebook.csv, feedback/ and report.html made again from the folder alone (results.jsonl
    and overrides.jsonl), as after a review; problems.csv stays the batch's."""
    with outputs_locked(out):
        return _write_marks(out, bank, results(out))


def _write_marks(out: Path, bank: Bank, rows: Iterable[dict[str, Any]],
                 problems: Problems | None = None) -> Marks:
    overrides, damaged = load(out)
    review = Review(bank, overrides)
    book = Gradebook(bank, reviewed_columns=(out / OVERRIDES).exists())
    feedback, report = Feedback(out / "feedback", bank), Report(bank)
    for item in review.answers(rows):
        if problems:
            problems.add(item.row, item.machine)
        for sink in (book, feedback, report):
            sink.add(item)
    book.add_orphans(review.orphans)
    for override in review.orphans:
        report.add_stale(override, NOT_IN_RESULTS)
    book.write(out / "gradebook.csv")
    report.write(out / "report.html")
    return Marks(report.changed_count, report.stale_count, damaged)


@contextmanager
def outputs_locked(out: Path) -> Iterator[None]:
    """One writer of the outputs at a time (`tutor grade`, review page tabs): they never mix."""
    with (out / OUTPUTS_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@contextmanager
def _replacing(path: Path) -> Iterator[TextIO]:
    """Write a file whole or not at all: a reader never sees half a gradebook."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        yield handle
    os.replace(temporary, path)
