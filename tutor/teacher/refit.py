"""`tutor calibrate --from MARKS_DIR`: the head's thresholds refitted on a teacher's review.

The probe's weights stay: a class's few hundred labelled points are too few to refit them, but
enough to move where it decides. The rules:

- Safety: a class refit may only make grading stricter than the head it starts from. Its
  key-point threshold is never below that head's, its misconception threshold never above.
  Why this holds for any answer, attack or not: the weights are the same, so on the same
  signals every key point the refit counts as stated, the starting head counted too, and every
  misconception the starting head found, the refit finds too; the score only rises with key
  points and only falls with misconceptions (`compute_score`). So no answer gets a higher score
  or band than the starting head gave it, and that head's thresholds were chosen on the gold
  dev set keeping its injection, keyword and master-key answers out of the top band. A class
  holds no such answers to check a looser setting against (reviewed answers are not attacks),
  so a lenient teacher's labels cannot loosen the head. The bounds are those of the head
  before any refit, kept in a refit's metadata, so refitting a refit never drifts past them.
- What it needs: results with the signals the head reads. A head on hidden states cannot be
  refitted on results made without them (the fake or an API backend); that is one line naming
  the backend, before anything is written.
- What it writes, each whole or not at all (`tutor.core.paths.replacing`): labelled.jsonl and
  reviewed-run.jsonl in the marks folder, then the head, then, only once the head is saved,
  course.toml naming it. A failed write is one line; no file names a head that is not there.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from tutor.core.bank import Bank
from tutor.core.console import Console, plural
from tutor.core.course import Course, set_head
from tutor.core.decide import ProbeHead, Thresholds
from tutor.core.errors import TutorError
from tutor.core.paths import replacing
from tutor.teacher import reviewed_labels
from tutor.teacher.batch.run import RESULTS
from tutor.teacher.calibration import calibrate_doubt, choose_thresholds, stateless_backends
from tutor.teacher.evaluation import EvalRun, metrics, rescore_run

MIN_REVIEWED = 20  # reviewed answers with point labels before thresholds are refitted on them
BOUNDS = "threshold_bounds"  # in a refit head's metadata: the thresholds it may not loosen
COURSE_HEAD = "judge-head.npz"  # a refit saved into the course folder


@dataclass(frozen=True)
class Bounds:
    """The safety rule above, for one starting head: the thresholds a refit may choose."""

    thresholds: Thresholds

    @classmethod
    def of(cls, head: ProbeHead) -> "Bounds":
        """The starting head's own thresholds, or, for a refit, those of the head it came from."""
        kept = head.meta.get(BOUNDS)
        return cls(Thresholds(*kept) if kept else head.thresholds)

    def allow(self, t: Thresholds) -> bool:
        """No looser than the bounds: key points need as much, misconceptions no more."""
        return t.key_point >= self.thresholds.key_point and t.misconception <= self.thresholds.misconception


def check_signals(run: EvalRun, head: ProbeHead, marks_dir: Path) -> None:
    """A head on hidden states needs them in every judged verdict; else one line naming the
    backend that graded the class and what it allows."""
    if not head.use_state:
        return
    if bare := stateless_backends(run):
        raise TutorError(
            f"{marks_dir / RESULTS}: graded by the {', '.join(sorted(bare))} backend, which gives P(yes) "
            f"but no hidden states; head {head.name} decides on hidden states, so nothing can be refitted "
            "from these results (only a head on P(yes) alone, from `tutor calibrate --plain`, can be): "
            f"grade the class with the local backend first; `tutor eval --from {marks_dir} --head plain` "
            "measures the grader against the teacher as it is")


def refit_on_reviews(bank: Bank, reviews: EvalRun, head: ProbeHead, source: str, skipped: int = 0,
                     say: Callable[[str], None] | None = None) -> ProbeHead:
    """The same head, with its thresholds (within `Bounds`) and review cut-off chosen on a
    teacher's reviewed answers, through the decide step grading uses (`say`: by default, stdout)."""
    say = say or Console().say
    labelled = [g for g in reviews.gold if g.key_points or g.misconceptions]
    if len(labelled) < MIN_REVIEWED:
        were = "was" if skipped == 1 else "were"
        also = f"; {plural(skipped, 'more override')} {were} skipped (see the lines above)" if skipped else ""
        raise TutorError(f"{source}: {plural(len(labelled), 'answer')} with reviewed points; refitting needs "
                         f"at least {MIN_REVIEWED} (accept or correct more answers in `tutor review`){also}")
    bounds = Bounds.of(head)
    start = replace(head, thresholds=bounds.thresholds)
    refit = calibrate_doubt(bank, reviews, choose_thresholds(bank, reviews, start, bounds.allow))
    refit.meta = {**head.meta, "name": f"{head.name.split('@')[0]}@{source}", "thresholds_from": source,
                  "reviewed_answers": len(reviews.gold),
                  BOUNDS: [bounds.thresholds.key_point, bounds.thresholds.misconception]}
    for label, h in (("before", head), ("after", refit)):
        m = metrics(rescore_run(bank, reviews, h))
        say(f"{label}: thresholds {h.thresholds.key_point}/{h.thresholds.misconception}, review below "
            f"{h.review_below}: band agreement with the teacher {m.band_accuracy:.3f}, Spearman "
            f"{m.spearman:.3f} on the {plural(len(reviews.gold), 'reviewed answer')} (the answers it was "
            "fitted on)")
    say(f"the refit is never looser than thresholds {bounds.thresholds.key_point}/"
        f"{bounds.thresholds.misconception} (key points at least, misconceptions at most): "
        "no answer gets a higher band than before")
    return refit


def refit_from_marks(bank: Bank, marks_dir: Path, head: ProbeHead,
                     say: Callable[[str], None] | None = None) -> ProbeHead:
    """The teacher's labels read (what was skipped, said), checked, saved beside the marks, and
    the head refitted on them."""
    say = say or Console().say
    labels = reviewed_labels.teacher_labels(bank, marks_dir)
    check_signals(labels.run, head, marks_dir)
    for path in reviewed_labels.save(labels.run, marks_dir):
        say(f"wrote {path}")
    skipped = len(labels.damaged) + labels.stale.total()
    return refit_on_reviews(bank, labels.run, head, marks_dir.name, skipped, say)


def save_head(head: ProbeHead, path: Path, course: Course | None = None) -> None:
    """The head saved whole at `path`; then, with `course`, course.toml names it (also whole),
    so the course grades with it from now on. A failed write is one line that says what to do."""
    with replacing(path, "give --out FILE.npz to save the head elsewhere") as temporary:
        head.save(temporary)
    if course is not None:
        set_head(course, path.name, f"the refitted head is saved in {path}: grade with --head {path}, "
                                    "or make course.toml writable and run again")
