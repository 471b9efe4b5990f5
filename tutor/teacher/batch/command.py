"""`tutor grade`, end to end: read, grade what is not done yet, write every output."""

import fcntl
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.core.bank import Bank
from tutor.core.console import plural, progress_bar, safe_line
from tutor.core.decide import Head
from tutor.core.errors import TutorError
from tutor.core.grader import default_head
from tutor.core.judges.registry import ReliableJudge
from tutor.core.paths import ensure_dir
from tutor.core.rubric import Rubric
from tutor.teacher.batch.inputs import Inputs, submission_files
from tutor.teacher.batch.outputs import Marks, write_all
from tutor.teacher.batch.run import BatchRun, answers_per_minute

LOCK = ".tutor-grade.lock"


@dataclass(frozen=True)
class Summary:
    graded: int
    failed: int
    skipped: int
    made: int
    seconds: float

    def line(self, out: Path) -> str:
        rate = answers_per_minute(self.made, self.seconds)
        return (f"graded {self.graded}, failed {self.failed}, skipped {self.skipped} (done before), "
                f"{self.seconds:.0f} s, {rate:.1f} answers/min → {out}")


def grade_submissions(bank: Bank, load_judge: Callable[[], ReliableJudge], targets: list[Path], out: Path,
                      parallel_answers: int = 1, retry_errors: bool = False,
                      speech_terms: Sequence[str] = (),
                      choose_head: Callable[[ReliableJudge], Head] = default_head,
                      check_rubrics: Callable[[list[Rubric]], None] | None = None,
                      outside_audio: bool = False) -> Summary:
    """`speech_terms`: the course's vocabulary, for answers given as recordings; `choose_head`:
    the head for the loaded judge (the command's settings); `check_rubrics` may refuse the rubrics
    the answers would be graded against (skeletons); `outside_audio`: recordings may lie outside
    the submissions folder (--allow-outside-audio)."""
    _check_targets(targets, out)
    ensure_dir(out, "--out")
    with locked(out):
        inputs = Inputs(bank, targets, skip=out, terms=speech_terms, outside_audio=outside_audio)
        if check_rubrics:
            check_rubrics([bank.get(question) for question in inputs.questions()])
        for item in inputs.rejected:
            print(f"tutor: skipped {safe_line(item.source)}: {safe_line(item.reason)}", file=sys.stderr)
        for note in inputs.cut:
            print(f"tutor: {safe_line(note)}", file=sys.stderr)
        judge = load_judge()
        run = BatchRun(bank, judge, out, parallel_answers=parallel_answers, head=choose_head(judge))
        todo = sum(1 for _ in run.pending(inputs.submissions(), retry_errors))
        start = time.perf_counter()
        with progress_bar() as progress:
            made = Counter(line["status"] for line in
                           run.grade_all(run.pending(inputs.submissions()), progress, todo))
        seconds = time.perf_counter() - start
        run.finalize(inputs.submissions())
        final: Counter[str] = Counter()
        marks = write_all(out, bank, _counted(run.results(), final), inputs.rejected)
    _tell_review(marks, out)
    failed = final.total() - final["graded"] + len(inputs.rejected)
    return Summary(made["graded"], failed, inputs.count - todo, made.total(), seconds)


def _tell_review(marks: Marks, out: Path) -> None:
    """The teacher's overrides are kept as they are; say which no longer apply."""
    for problem in marks.damaged:
        print(f"tutor: {safe_line(problem)}", file=sys.stderr)
    if marks.stale:
        verb = "applies" if marks.stale == 1 else "apply"
        print(f"tutor: {plural(marks.stale, 'review override')} in {safe_line(str(out))}/overrides.jsonl no "
              f"longer {verb} (answer or rubric changed, or answer gone): listed in report.html",
              file=sys.stderr)


def _check_targets(targets: list[Path], out: Path) -> None:
    """Every target exists, and a folder holds something to read (an empty one is a wrong path,
    not a class with no answers)."""
    missing = [p for p in targets if not p.exists()]
    if missing:
        raise TutorError(f"{missing[0]}: no such file or folder")
    empty = [p for p in targets if p.is_dir() and not submission_files(p, out)]
    if empty:
        raise TutorError(f"{empty[0]}: no submissions in this folder (.csv, .jsonl, .md files or "
                         "a folder of recordings per student)")


def _counted(rows: Iterable[dict[str, Any]], statuses: Counter[str]) -> Iterator[dict[str, Any]]:
    for row in rows:
        statuses[row["status"]] += 1
        yield row


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """One `tutor grade` per --out at a time: a second run would grade everything again."""
    with (out / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TutorError(f"{out}: another `tutor grade` is writing to this folder; "
                             "wait for it to finish or choose another --out") from None
        yield
