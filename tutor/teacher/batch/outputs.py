"""What a batch leaves in --out: gradebook.csv, feedback/*.md, problems.csv, report.html.

problems.csv is the batch's own (what could not be read or graded). gradebook.csv,
feedback/ and report.html show the grades as the teacher left them: the machine's grades
with the overrides in overrides.jsonl (`tutor.teacher.overrides`), so `write_marks` makes
them again from the folder alone after each change on the review page. How they are written
(whole or not at all, one writer at a time, repaired when out of date) is
`tutor.teacher.marks_folder`'s."""

import csv
import hashlib
import heapq
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from tutor.core.bank import Bank
from tutor.core.console import SAFE, safe_text, score_text
from tutor.core.feedback import doubt_lines, reread_text, verdict_text
from tutor.core.result import Band, Grade
from tutor.teacher.batch.inputs import Rejected
from tutor.teacher.batch.run import RESULTS
from tutor.teacher.learner_text import FSI, PDI, register
from tutor.teacher.marks_folder import GRADEBOOK, OVERRIDES, PROBLEMS, REPORT, FeedbackBuilder, MarksFolder
from tutor.teacher.overrides import NOT_IN_RESULTS, Override, Review, Reviewed, load, results
from tutor.teacher.records import GradedAnswer

UNSAFE_IN_MARKDOWN = re.compile(r"([\\`*_\[\]()<>!#&|~])")
log = logging.getLogger("tutor.marks")
NAME_BYTES = 60  # the readable part of a feedback file name; with the hash, well under 100 bytes
Ranked = tuple[float, int, GradedAnswer, Grade]  # (-key, -input order, graded answer, grade now)


def md_text(text: object) -> str:
    """Learner text made inert inside one Markdown line: no HTML, links, images or emphasis."""
    return UNSAFE_IN_MARKDOWN.sub(r"\\\1", " ".join(safe_text(str(text)).split()))


def md_learner(text: object) -> str:
    """Learner text in a feedback file: `md_text`, isolated by FSI…PDI (plain text's `<bdi>`), so
    a right-to-left name or answer cannot reorder the sentence around it."""
    return f"{FSI}{md_text(text)}{PDI}"


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

    def write(self, folder: MarksFolder) -> None:
        present = {q for own in self.scores.values() for q in own}
        questions = [r.id for r in self.bank.rubrics if r.id in present]
        extra = ["changed by reviewer", "stale overrides"] if self.reviewed_columns else []
        with folder.replacing(GRADEBOOK) as path, path.open("w", newline="", encoding="utf-8") as handle:
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
    """problems.csv: rejected rows first, then every answer that was not graded or was empty.
    Written beside the old one, which it replaces once complete (`close`)."""

    def __init__(self, path: Path, rejected: list[Rejected]):
        self.path = path
        self.handle = path.open("w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(["source", "student", "question", "problem"])
        for item in rejected:
            self._write(item.source, item.student, item.question[:80], item.reason)

    def add(self, row: GradedAnswer) -> None:
        grade = row.grade
        if grade.status == "ungraded":
            self._write(row.source, row.student, row.question_id, grade.reason or "")
        elif not row.answer.strip():
            self._write(row.source, row.student, row.question_id, "empty answer")

    def _write(self, *cells: str) -> None:
        self.writer.writerow(map(csv_cell, cells))

    def close(self) -> None:
        self.handle.close()


def heard_text(row: GradedAnswer) -> str:
    """What was graded for a recorded answer, as a Markdown line: the recording and its
    transcript, each escaped and isolated (`md_learner`)."""
    name, seconds = Path(row.audio or "").name, row.audio_seconds or 0.0
    return f"Your recording {md_learner(name)} ({seconds:.0f} s) was heard as: {md_learner(row.answer)}"


def _feedback_block(bank: Bank, row: GradedAnswer, grade: Grade,
                    changed_by: Override | None = None) -> list[str]:
    rubric = bank.get(row.question_id)
    lines = [f"## {rubric.id}: {safe_text(rubric.question)}", ""]
    if grade.status == "ungraded":
        return lines + [f"Could not grade: {md_text(grade.reason or '')}", ""]
    score, band = grade.decided
    lines.append(f"Score {score:.2f} ({band.value})")
    if row.transcript:
        lines.append(f"- {heard_text(row)}")
    if changed_by:
        reason = f": {md_learner(changed_by.reason)}" if changed_by.reason.strip() else "."
        lines.append(f"- Mark changed by {md_learner(changed_by.reviewer)}{reason}")
    lines += [f"- note: {md_text(n)}" for n in grade.notices]
    lines += [f"- {safe_text(line)}" for line in doubt_lines(grade)]
    for right, text in filter(None, (verdict_text(v, row.transcript, md_text, md_learner)
                                     for v in grade.verdicts)):
        lines.append(f"- {'✓' if right else '✗'} {text}")
    if grade.missed():
        lines += [f"- {md_text(reread_text(ref))}" for ref in rubric.refs]
    return lines + [""]


KEEP_ISOLATES = SAFE | {ord(FSI): FSI, ord(PDI): PDI}


def keep_isolates(block: str) -> str:
    """`safe_text` on a feedback block that keeps the isolates `md_learner` put there. Every
    piece of the block has been through `safe_text` already (learner text through `md_text`,
    the rubric's words explicitly), so every FSI/PDI left is one of ours; this pass is the
    last guard for the rest."""
    return block.translate(KEEP_ISOLATES)


class Feedback:
    """feedback/<name>.md per student, appended answer by answer (rows of one student may be
    far apart in the input) while it is built aside; each file then replaces the old one whole."""

    def __init__(self, builder: FeedbackBuilder, bank: Bank):
        self.builder, self.bank = builder, bank

    def add(self, item: Reviewed) -> None:
        student = item.row.student
        name = feedback_name(student)
        head = "" if self.builder.started(name) else f"# Feedback for {md_learner(student)}\n\n"
        block = "\n".join(_feedback_block(self.bank, item.row, item.grade, item.changed_by))
        self.builder.append(name, head + keep_isolates(block) + "\n")

    def finish(self) -> None:
        self.builder.finish()


@dataclass(frozen=True)
class Changed:
    """An answer whose mark a person changed, as the report lists it."""

    student: str
    question_id: str
    before: str  # "0.62 partial", or "ungraded"
    after: str
    by: Override | None


@dataclass(frozen=True)
class Stale:
    """An override that no longer applies, and why."""

    override: Override
    why: str


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
        self.changed: list[Changed] = []  # answers a person changed (people make few)
        self.stale: list[Stale] = []  # overrides that no longer apply
        self.changed_count = self.reviewed_count = self.stale_count = 0

    def add(self, item: Reviewed) -> None:
        self._add_review(item)
        self._add_grade(item.row, item.grade)

    def _add_review(self, item: Reviewed) -> None:
        self.reviewed_count += item.reviewed
        if item.changed:
            self.changed_count += 1
            if len(self.changed) < LISTED:
                self.changed.append(Changed(*item.key, _mark(item.machine), _mark(item.grade),
                                            item.changed_by))
        for override, why in zip(item.stale, item.why_stale, strict=True):
            self.add_stale(override, why)

    def add_stale(self, override: Override, why: str) -> None:
        if len(self.stale) < LISTED:
            self.stale.append(Stale(override, why))
        self.stale_count += 1

    def _add_grade(self, row: GradedAnswer, grade: Grade) -> None:
        self.order += 1
        if grade.status != "graded":
            self.ungraded += 1
            return
        score, band = grade.decided
        self.bins[min(9, int(score * 10))] += 1
        self.bands[band.value] += 1
        totals = self.per_question[row.question_id]
        totals[0], totals[1] = totals[0] + score, totals[1] + 1
        self._count_missed(row.question_id, grade)
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

    def write(self, folder: MarksFolder) -> None:
        env = register(Environment(loader=PackageLoader("tutor.teacher.batch", "templates"),
                                   autoescape=select_autoescape(["html", "j2"])))
        page = safe_text(env.get_template("report.html.j2").render(**self.data()))
        with folder.replacing(REPORT) as temporary:
            temporary.write_text(page, encoding="utf-8")


LOWEST, TO_REVIEW = 10, 200  # rows the report lists; the gradebook names every row to review
LISTED = 500  # changed answers and stale overrides the report lists (all are counted)


def _mark(grade: Grade) -> str:
    """"0.62 partial", or "ungraded"."""
    if grade.score is None or grade.band is None:
        return "ungraded"
    return f"{score_text(grade.score)} {grade.band.value}"


def _keep_smallest(heap: list[Ranked], size: int, item: Ranked) -> None:
    """Keep the `size` items that sort first, in a heap whose root is the one to drop next.
    Items arrive as (-key, -order, …), so the heap root is the largest (key, order)."""
    if len(heap) < size:
        heapq.heappush(heap, item)
    elif item[:2] > heap[0][:2]:
        heapq.heapreplace(heap, item)


def _in_order(heap: list[Ranked]) -> list[tuple[GradedAnswer, Grade]]:
    """(row, grade) by key, then input order, as a full sort would give."""
    return [(row, grade) for _, _, row, grade in sorted(heap, key=lambda item: (-item[0], -item[1]))]


@dataclass
class Marks:
    """What writing the marks found beyond the grades: for the command to report."""

    changed: int = 0  # answers whose mark a person changed
    stale: int = 0  # overrides that no longer apply (answer or rubric changed, answer gone)
    damaged: list[str] = field(default_factory=list)  # overrides.jsonl lines skipped: "file:line: why"


def write_all(out: Path, bank: Bank, rows: Iterable[GradedAnswer], rejected: list[Rejected]) -> Marks:
    """Every output from one pass over the results; each row's grade is parsed once."""
    folder = MarksFolder(out)
    with folder.outputs_locked(), folder.replacing(PROBLEMS) as problems_file:
        problems = Problems(problems_file, rejected)
        try:
            return _write_marks(folder, bank, rows, problems)
        finally:
            problems.close()


def write_marks(out: Path, bank: Bank) -> Marks:
    """gradebook.csv, feedback/ and report.html made again from the folder alone (results.jsonl
    and overrides.jsonl), as after a review; problems.csv stays the batch's."""
    folder = MarksFolder(out)
    with folder.outputs_locked():
        return _write_marks(folder, bank, results(out))


def opened(out: Path, bank: Bank) -> None:
    """A marks folder as `review`, `eval --from` and `calibrate --from` open it: outputs that
    are out of date are made again first, with a warning (nothing is ever lost silently)."""
    if bring_up_to_date(out, bank) is not None:
        log.warning(f"{out}: gradebook.csv, feedback/ and report.html did not show every change in "
                    f"{RESULTS} and {OVERRIDES} (a rebuild was cut short); made them again")


def bring_up_to_date(out: Path, bank: Bank) -> Marks | None:
    """The outputs made again when they are not made from results.jsonl and overrides.jsonl as
    they are now (a rebuild cut short, an override whose rebuild never ran); None when current."""
    rows = results(out)  # a folder without results: one line, before anything is written
    folder = MarksFolder(out)
    with folder.outputs_locked():
        return None if folder.outputs_current() else _write_marks(folder, bank, rows)


def _write_marks(folder: MarksFolder, bank: Bank, rows: Iterable[GradedAnswer],
                 problems: Problems | None = None) -> Marks:
    made_from = folder.signature()  # before reading: a change made meanwhile leaves them out of date
    overrides, damaged = load(folder.path)
    review = Review(bank, overrides)
    book = Gradebook(bank, reviewed_columns=(folder / OVERRIDES).exists())
    feedback, report = Feedback(folder.feedback_builder(), bank), Report(bank)
    for item in review.answers(rows):
        if problems:
            problems.add(item.row)
        for sink in (book, feedback, report):
            sink.add(item)
    book.add_orphans(review.orphans)
    for override in review.orphans:
        report.add_stale(override, NOT_IN_RESULTS)
    feedback.finish()
    book.write(folder)
    report.write(folder)
    folder.stamp(made_from)
    return Marks(report.changed_count, report.stale_count, damaged)
