"""What a teacher's review teaches: a `TeacherLabel` per reviewed answer (in the gold format
where a labelled file or an eval run needs one), paired with the grader's own grades, for
`tutor eval --from MARKS_DIR` (how well the grader agrees with the teacher) and
`tutor calibrate --from MARKS_DIR` (refit on the teacher).

Which labels an answer gives:
- a point the teacher set, or any point of an answer the teacher accepted or changed a point of:
  that point's verdict as the teacher left it (the points they did not change, they saw and let
  stand);
- an answer whose mark alone was overridden: its mark and band, but no point labels (the teacher
  said the total was wrong, not which verdict).


Nothing is dropped silently: damaged lines of overrides.jsonl, and overrides that no longer apply
(the answer or the rubric changed since the review, the answer is gone), are named with why, as
`tutor grade` names them.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tutor.core.bank import Bank
from tutor.core.console import plural
from tutor.core.errors import TutorError
from tutor.core.result import Band, Grade, Outcome
from tutor.teacher.batch.outputs import opened
from tutor.teacher.evaluation import EvalRun, GoldAnswer
from tutor.teacher.marks_folder import LABELLED, OVERRIDES, REVIEWED_RUN, MarksFolder
from tutor.teacher.overrides import NOT_IN_RESULTS, Review, Reviewed, load, results

log = logging.getLogger("tutor.marks")


# the outcome that says a point is stated, for each kind (in the order of TeacherLabel's fields)
STATED = {"key_point": Outcome.HIT, "misconception": Outcome.WRONG, "numeric": Outcome.HIT}


@dataclass(frozen=True)
class TeacherLabel:
    """What a teacher's review of one answer says: the mark and band they left, and for each
    point they saw, whether the answer states it (the machine's verdict where they let it stand,
    theirs where they set it). Read from the overrides and the machine's verdicts: no grade is
    made again."""

    student: str
    question_id: str
    answer: str
    mark: float
    band: Band
    reviewers: tuple[str, ...]
    # point id → stated, for each kind of point; all empty when only the mark was set
    key_points: dict[str, bool]
    misconceptions: dict[str, bool]
    numeric: dict[str, bool]

    @classmethod
    def of(cls, item: Reviewed) -> "TeacherLabel | None":
        """The answer's label, or None when the teacher has not reviewed it (or it was never
        graded, so there are no verdicts to label)."""
        score, band = item.grade.score, item.grade.band
        if not item.reviewed or item.machine.status != "graded" or score is None or band is None:
            return None
        points_seen = any(o.change in ("point", "accept") for o in item.applied)
        seen = item.machine.verdicts if points_seen else []
        stated = [(v.kind, v.point_id, item.outcomes.get(v.point_id, v.outcome) == STATED[v.kind])
                  for v in seen]
        key_points, misconceptions, numeric = ({p: s for k, p, s in stated if k == kind} for kind in STATED)
        return cls(item.row.student, item.row.question_id, item.row.answer, score, band,
                   tuple(sorted({o.reviewer for o in item.applied})), key_points, misconceptions, numeric)

    def as_gold(self) -> GoldAnswer:
        """The label in the gold format (category "reviewed"), which `tutor eval` and `tutor
        calibrate` read and labelled.jsonl holds."""
        return GoldAnswer(
            id=f"{self.student}::{self.question_id}", question_id=self.question_id, category="reviewed",
            answer=self.answer, mark=self.mark, band=self.band, key_points=self.key_points,
            misconceptions=self.misconceptions, numeric=self.numeric,
            note=f"reviewed by {', '.join(self.reviewers)}")


@dataclass
class TeacherLabels:
    """A marks folder's reviewed answers as labels, and what was skipped on the way."""

    labels: list[TeacherLabel] = field(default_factory=list)
    grades: list[Grade] = field(default_factory=list)  # the grader's grades of those answers
    damaged: list[str] = field(default_factory=list)  # overrides.jsonl lines skipped: "file:line: why"
    stale: Counter[str] = field(default_factory=Counter)  # overrides that no longer apply, by why

    @property
    def run(self) -> EvalRun:
        """The labels as gold answers, with the grader's grades: an eval run to measure or refit on."""
        return EvalRun([label.as_gold() for label in self.labels], list(self.grades), 0.0)

    def skipped(self, marks_dir: Path) -> list[str]:
        """One line per damaged override line, one per reason overrides were not applied."""
        where = marks_dir / OVERRIDES
        return [*self.damaged, *(f"{where}: {plural(n, 'override')} skipped: {why}"
                                 for why, n in self.stale.most_common())]


def teacher_labels(bank: Bank, marks_dir: Path) -> TeacherLabels:
    """The reviewed answers of a marks folder (its outputs brought up to date first); the
    overrides skipped are logged as warnings, and named in the error when nothing is left."""
    opened(marks_dir, bank)
    overrides, damaged = load(marks_dir)
    review = Review(bank, overrides)
    found = TeacherLabels(damaged=damaged)
    for item in review.answers(results(marks_dir)):
        found.stale.update(item.why_stale)
        label = TeacherLabel.of(item)
        if label is not None:
            found.labels.append(label)
            found.grades.append(item.machine)
    found.stale[NOT_IN_RESULTS] += len(review.orphans)
    found.stale = +found.stale  # no reason counted zero times
    for line in found.skipped(marks_dir):
        log.warning(line)
    if not found.labels:
        skipped = " (every review was skipped: see the lines above)" if found.stale or damaged else ""
        raise TutorError(f"{marks_dir}: no reviewed answers yet{skipped} "
                         f"(review some: `tutor review {marks_dir}`)")
    return found


def reviewed_run(bank: Bank, marks_dir: Path) -> EvalRun:
    """The reviewed answers of a marks folder: the teacher's labels and the grader's grades."""
    return teacher_labels(bank, marks_dir).run


def save(run: EvalRun, marks_dir: Path) -> tuple[Path, Path]:
    """labelled.jsonl (gold format) and reviewed-run.jsonl (a saved run): with them the full
    `tutor calibrate TRAIN… --dev … --labelled labelled.jsonl` can use the teacher's answers too."""
    folder = MarksFolder(marks_dir)
    with folder.replacing(LABELLED) as labels:
        labels.write_text("".join(g.model_dump_json() + "\n" for g in run.gold), encoding="utf-8")
    with folder.replacing(REVIEWED_RUN) as saved:
        run.dump(saved)
    return marks_dir / LABELLED, marks_dir / REVIEWED_RUN
