"""A teacher's changes to machine grades: an append-only audit trail beside the results.

MARKS_DIR/overrides.jsonl holds one JSON line per change a person made: a point's verdict,
the mark, or "the grade stands". It is only ever appended to, under an exclusive lock and
fsync'd, so two browser tabs or two processes never lose or interleave a line, and
`tutor grade` never touches it. What a teacher sees is always computed: the machine's
grades (results.jsonl) with the person's changes (overrides.jsonl), by these rules:

- An override holds for the answer text and rubric version it was made on. If the current
  results row has another answer (`answer_sha256`) or was graded with another rubric version,
  or the course's rubric has changed since the row was graded, the override is *stale*: listed,
  never applied. An override for a (student, question) with no results row is stale too.
- Overrides apply in file order. `point` sets that point's outcome (the latest per point wins);
  score and band follow from the grader's one score rule (`tutor.core.grader.overruled`).
- `mark` sets the score, and the band from the rubric's cut-offs. The latest mark wins, over
  point changes made before it and after it: a later point change keeps the mark (the review
  page shows both the mark and the points' score). To go back to the points' score, set the
  mark to it.
- `accept` changes nothing but the needs-review flag. Every applied override clears that flag:
  a person has looked.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tutor.core.bank import Bank
from tutor.core.errors import TutorError, first_problem
from tutor.core.grader import overruled
from tutor.core.result import Grade, Outcome
from tutor.core.rubric import Rubric
from tutor.teacher.batch.run import RESULTS
from tutor.teacher.marks_folder import OVERRIDES as OVERRIDES  # noqa: PLC0414 (re-exported)
from tutor.teacher.marks_folder import MarksFolder
from tutor.teacher.records import GradedAnswer, read_results

Change = Literal["point", "mark", "accept"]
# the outcomes a person may give each kind of point
ALLOWED: dict[str, tuple[Outcome, ...]] = {
    "key_point": (Outcome.HIT, Outcome.MISS),
    "misconception": (Outcome.WRONG, Outcome.CLEAR),
    "numeric": (Outcome.HIT, Outcome.MISS, Outcome.WRONG),
}
NOT_IN_RESULTS = "answer no longer in results"


class Override(BaseModel):
    """One change a person made to one answer's grade."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    at: AwareDatetime
    reviewer: str = Field(min_length=1)
    student: str
    question_id: str
    answer_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    rubric_version: str
    change: Change
    point_id: str | None = None
    old: str | float | None = None
    new: str | float | None = None  # an outcome (point), a score 0..1 (mark), null (accept)
    reason: str = ""

    @field_validator("at")
    @classmethod
    def _in_utc(cls, at: datetime) -> datetime:
        return at.astimezone(UTC)

    @field_validator("old", "new")
    @classmethod
    def _no_negative_zero(cls, value: str | float | None) -> str | float | None:
        """A mark typed as "-0" is 0: never shown as "-0.00" in the history, report or gradebook."""
        return value + 0.0 if isinstance(value, float) else value

    @model_validator(mode="after")
    def _fits_its_change(self) -> "Override":
        if self.change == "point" and (not self.point_id or self.new not in set(Outcome)):
            raise ValueError("a point override needs point_id and new: hit, miss, wrong or clear")
        if self.change == "mark" and not (isinstance(self.new, float) and 0 <= self.new <= 1):
            raise ValueError("a mark override needs new: a score from 0 to 1")
        if self.change == "accept" and self.new is not None:
            raise ValueError("an accept override has new: null")
        return self

    @property
    def key(self) -> tuple[str, str]:
        return self.student, self.question_id


def answer_sha256(answer: str) -> str:
    """The answer as graded, hashed ("surrogatepass": any text JSON can carry hashes)."""
    return hashlib.sha256(answer.encode("utf-8", "surrogatepass")).hexdigest()


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def made_now(row: GradedAnswer, reviewer: str, change: Change, **fields: Any) -> Override:
    """An override of the graded answer `row` as it is now, made now by `reviewer`."""
    return Override(at=utc_now(), reviewer=reviewer, student=row.student, question_id=row.question_id,
                    answer_sha256=answer_sha256(row.answer), rubric_version=row.grade.rubric_version,
                    change=change, **fields)


def append(marks_dir: Path, override: Override) -> None:
    """Add one line to overrides.jsonl, durably, never rewriting what is there
    (`MarksFolder.append_override`: locked, fsync'd, after a cut line)."""
    line = override.model_dump_json() + "\n"
    MarksFolder(marks_dir).append_override(line.encode("utf-8", "surrogatepass"))


def load(marks_dir: Path) -> tuple[list[Override], list[str]]:
    """(every override in file order, one problem per damaged line: "file:line: why")."""
    path = marks_dir / OVERRIDES
    found: list[Override] = []
    problems: list[str] = []
    with MarksFolder(marks_dir).reading_overrides() as handle:
        for number, line in enumerate(handle or (), 1):
            if line.strip():
                try:
                    found.append(Override.model_validate_json(line))
                except ValidationError as exc:
                    problems.append(f"{path}:{number}: skipped, {first_problem(exc)}")
    return found, problems


@dataclass
class Reviewed:
    """One graded answer as the teacher sees it: the machine's grade and the grade after the
    person's changes, with the overrides that apply and those that are stale (and why)."""

    row: GradedAnswer
    machine: Grade
    grade: Grade
    points: Grade  # after the point overrides, before any mark: what the verdicts give
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # the person's verdicts, by point id
    applied: list[Override] = field(default_factory=list)
    stale: list[Override] = field(default_factory=list)
    why_stale: list[str] = field(default_factory=list)  # one reason per stale override
    history: list[tuple[Override, str | None]] = field(default_factory=list)  # all, in order: (o, why stale)

    @property
    def key(self) -> tuple[str, str]:
        return self.row.who

    @property
    def reviewed(self) -> bool:
        return bool(self.applied)

    @property
    def mark(self) -> Override | None:
        """The mark override in force (the latest), if any."""
        return next((o for o in reversed(self.applied) if o.change == "mark"), None)

    @property
    def changed(self) -> bool:
        """A person set the mark, or changed verdicts so that score or band differ."""
        before, after = self.machine, self.grade
        return self.mark is not None or (before.score, before.band) != (after.score, after.band)

    @property
    def changed_by(self) -> Override | None:
        """The change behind the current mark: the mark in force, else the latest point change."""
        if not self.changed:
            return None
        return self.mark or next((o for o in reversed(self.applied) if o.change == "point"), None)


def why_stale(override: Override, rubric: Rubric, row: GradedAnswer) -> str | None:
    """Why `override` does not apply to this graded answer, or None when it does."""
    machine = row.grade
    if override.answer_sha256 != answer_sha256(row.answer):
        return "the answer changed since the review"
    if override.rubric_version != machine.rubric_version:
        return "the answer was graded again with another rubric version"
    if machine.rubric_version != rubric.version:
        return "the rubric changed since grading (run `tutor grade` again)"
    if override.change == "point":
        return _why_point_stale(override, machine)
    return None


def _why_point_stale(override: Override, machine: Grade) -> str | None:
    verdict = next((v for v in machine.verdicts if v.point_id == override.point_id), None)
    if verdict is None:
        return f"the grade has no point '{override.point_id}'"
    if override.new not in ALLOWED[verdict.kind]:
        return f"'{override.new}' is not an outcome of a {verdict.kind.replace('_', ' ')}"
    return None


def resolve(rubric: Rubric, row: GradedAnswer, overrides: Iterable[Override]) -> Reviewed:
    """The answer with the overrides made on it, applied in order by the rules above."""
    machine = row.grade
    item = Reviewed(row, machine, machine, machine)
    for override in overrides:
        why = why_stale(override, rubric, row)
        item.history.append((override, why))
        if why:
            item.stale.append(override)
            item.why_stale.append(why)
        else:
            item.applied.append(override)
    item.outcomes = {o.point_id: Outcome(str(o.new)) for o in item.applied
                     if o.change == "point" and o.point_id}
    item.points = overruled(rubric, row.answer, machine, item.outcomes) if item.outcomes else machine
    item.grade = _with_mark(rubric, item.points, item.mark)
    if item.applied:
        item.grade = item.grade.model_copy(update={"review": False})
    return item


def _with_mark(rubric: Rubric, grade: Grade, mark: Override | None) -> Grade:
    """A person's mark is the score (an ungraded answer becomes graded); it has no doubt."""
    if mark is None or not isinstance(mark.new, float):
        return grade
    return grade.model_copy(update={"status": "graded", "reason": None, "score": mark.new,
                                    "band": rubric.band_of(mark.new), "band_probability": None,
                                    "uncertain": []})


class Review:
    """Results rows with their overrides, streamed: each row resolved as it comes. After the
    stream, `orphans` are the overrides whose answer was never seen."""

    def __init__(self, bank: Bank, overrides: Iterable[Override]):
        self.bank = bank
        self.pending: dict[tuple[str, str], list[Override]] = defaultdict(list)
        for override in overrides:
            self.pending[override.key].append(override)
        self.seen: set[tuple[str, str]] = set()

    def answers(self, rows: Iterable[GradedAnswer]) -> Iterator[Reviewed]:
        for row in rows:
            if row.who in self.pending:
                self.seen.add(row.who)
            yield resolve(self.bank.get(row.question_id), row, self.pending.get(row.who, ()))

    @property
    def orphans(self) -> list[Override]:
        """Overrides for a (student, question) with no results row: stale, NOT_IN_RESULTS."""
        return [o for key, found in self.pending.items() if key not in self.seen for o in found]


def results(marks_dir: Path) -> Iterator[GradedAnswer]:
    """The graded answers of a marks folder, streamed; a folder without results is an error."""
    path = marks_dir / RESULTS
    if not path.is_file():
        raise TutorError(f"{marks_dir}: not a marks folder (no {RESULTS}; "
                         f"`tutor grade … --out {marks_dir}` makes one)")
    return read_results(path)


def reviewed_answers(bank: Bank, marks_dir: Path) -> Iterator[Reviewed]:
    """Every answer in MARKS_DIR with the teacher's changes (damaged override lines skipped;
    `load` reports them)."""
    return Review(bank, load(marks_dir)[0]).answers(results(marks_dir))


def reviewed_answer(bank: Bank, marks_dir: Path, student: str, question_id: str) -> Reviewed | None:
    """One answer with its overrides, resolving only that row."""
    rows = (row for row in results(marks_dir) if row.who == (student, question_id))
    return next(Review(bank, load(marks_dir)[0]).answers(rows), None)
