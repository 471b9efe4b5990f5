"""What a teacher's review teaches: reviewed answers as labelled examples in the gold format,
paired with the grader's own grades of them, for `tutor eval --from MARKS_DIR` (how well the
grader agrees with the teacher) and `tutor calibrate --from MARKS_DIR` (refit on the teacher).

Which labels an answer gives:
- a point the teacher set, or any point of an answer the teacher accepted or changed a point of:
  that point's verdict as the teacher left it (the points they did not change, they saw and let
  stand);
- an answer whose mark alone was overridden: its mark and band, but no point labels (the teacher
  said the total was wrong, not which verdict).
"""

from pathlib import Path

from tutor.core.bank import Bank
from tutor.core.errors import TutorError
from tutor.core.result import Outcome, Verdict
from tutor.teacher.evaluation import EvalRun, GoldAnswer
from tutor.teacher.overrides import Reviewed, reviewed_answers

LABELLED = "labelled.jsonl"  # the teacher's labels, in the gold format
REVIEWED_RUN = "reviewed-run.jsonl"  # the grader's grades of those answers, as `tutor eval --out` saves


def labelled(item: Reviewed) -> GoldAnswer | None:
    """The answer as a labelled example, or None when the teacher has not reviewed it (or it was
    never graded, so there are no verdicts to label)."""
    score, band = item.grade.score, item.grade.band
    if not item.reviewed or item.machine.status != "graded" or score is None or band is None:
        return None
    points_seen = any(o.change in ("point", "accept") for o in item.applied)
    verdicts = item.points.verdicts if points_seen else []
    reviewers = sorted({o.reviewer for o in item.applied})
    return GoldAnswer(
        id=f"{item.row['student']}::{item.row['question_id']}", question_id=item.row["question_id"],
        category="reviewed", answer=item.row["answer"], mark=score, band=band,
        key_points=_stated(verdicts, "key_point", Outcome.HIT),
        misconceptions=_stated(verdicts, "misconception", Outcome.WRONG),
        numeric=_stated(verdicts, "numeric", Outcome.HIT),
        note=f"reviewed by {', '.join(reviewers)}")


def _stated(verdicts: list[Verdict], kind: str, stated: Outcome) -> dict[str, bool]:
    return {v.point_id: v.outcome == stated for v in verdicts if v.kind == kind}


def reviewed_run(bank: Bank, marks_dir: Path) -> EvalRun:
    """The reviewed answers of a marks folder: the teacher's labels and the grader's grades."""
    gold, grades = [], []
    for item in reviewed_answers(bank, marks_dir):
        example = labelled(item)
        if example is not None:
            gold.append(example)
            grades.append(item.machine)
    if not gold:
        raise TutorError(f"{marks_dir}: no reviewed answers yet (review some: `tutor review {marks_dir}`)")
    return EvalRun(gold, grades, 0.0)


def save(run: EvalRun, marks_dir: Path) -> tuple[Path, Path]:
    """labelled.jsonl (gold format) and reviewed-run.jsonl (a saved run): with them the full
    `tutor calibrate TRAIN… --dev … --labelled labelled.jsonl` can use the teacher's answers too."""
    labels, saved = marks_dir / LABELLED, marks_dir / REVIEWED_RUN
    labels.write_text("".join(g.model_dump_json() + "\n" for g in run.gold), encoding="utf-8")
    run.dump(saved)
    return labels, saved
