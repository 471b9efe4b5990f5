"""`tutor grade`, end to end: read, grade what is not done yet, write every output."""

import fcntl
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.core.bank import Bank
from tutor.core.console import Console, plural
from tutor.core.decide import Head
from tutor.core.errors import TutorError
from tutor.core.grader import default_head
from tutor.core.judges.registry import ReliableJudge
from tutor.core.paths import ensure_dir
from tutor.core.rubric import Rubric
from tutor.teacher.batch.inputs import Inputs, submission_files
from tutor.teacher.batch.outputs import Marks, write_all
from tutor.teacher.batch.run import RESULTS, BatchRun, answers_per_minute, unheard_only
from tutor.teacher.records import GradedAnswer, read_results

if TYPE_CHECKING:
    from tutor.teacher.batch.cluster import Cluster

LOCK = ".tutor-grade.lock"


@dataclass(frozen=True)
class Summary:
    """What a run did, in the words of what happened: answers graded, done before, recordings
    that gave no answer, answers whose grading failed, rows set aside (not "failed" for all)."""

    graded: int  # answers graded in this run
    failed: int  # answers whose grading failed (ungraded with the reason)
    skipped: int  # answers graded in an earlier run
    made: int  # answers the judge was asked about in this run
    seconds: float
    unreadable: int = 0  # recordings that gave no answer (unreadable, empty, silent)
    set_aside: int = 0  # rows not graded: unreadable, unknown question, superseded, …

    def line(self, out: Path) -> str:
        rate = answers_per_minute(self.made, self.seconds)
        return ", ".join([f"graded {self.graded}", f"skipped {self.skipped} (done before)", *self.problems(),
                          f"{self.seconds:.0f} s", f"{rate:.1f} answers/min → {out}"])

    def problems(self) -> list[str]:
        """Each kind of problem the run met, counted; none when there was none."""
        told = [(self.unreadable, f"{plural(self.unreadable, 'recording')} unreadable or silent"),
                (self.failed, f"grading failed for {plural(self.failed, 'answer')}"),
                (self.set_aside, f"{plural(self.set_aside, 'row')} set aside (problems.csv)")]
        return [text for count, text in told if count]


@dataclass(frozen=True)
class Made:
    """What grading did in this run."""

    statuses: Counter[str]  # of the lines made
    judged: int  # answers the judge was asked about
    skipped: int  # answers done before
    seconds: float


def grade_submissions(bank: Bank, load_judge: Callable[[], ReliableJudge], targets: list[Path], out: Path,
                      parallel_answers: int = 1, retry_errors: bool = False,
                      speech_terms: Sequence[str] = (),
                      choose_head: Callable[[ReliableJudge], Head] = default_head,
                      check_rubrics: Callable[[list[Rubric]], None] | None = None,
                      outside_audio: bool = False, console: Console | None = None,
                      cluster: "Cluster | None" = None) -> Summary:
    """`speech_terms`: the course's vocabulary, for answers given as recordings; `choose_head`:
    the head for the loaded judge (the command's settings); `check_rubrics` may refuse the rubrics
    the answers would be graded against (skeletons); `outside_audio`: recordings may lie outside
    the submissions folder (--allow-outside-audio); `console`: where skipped rows, warnings and
    progress go; `cluster`: the answers are graded by its workers, this process still the one
    writer. The judge is loaded only when an answer needs it: a class whose every recording
    is unreadable is listed without one."""
    console = console or Console()
    _check_targets(targets, out)
    ensure_dir(out, "--out")
    with locked(out):
        inputs = Inputs(bank, targets, skip=out, terms=speech_terms, outside_audio=outside_audio,
                        console=console)
        if check_rubrics:
            check_rubrics([bank.get(question) for question in inputs.questions()])
        _tell_inputs(console, inputs)
        if inputs.count > len(inputs.unheard):
            judge = cluster.judge() if cluster else load_judge()
            head = choose_head(judge)
            run = BatchRun(bank, judge, out, parallel_answers=parallel_answers, head=head,
                           grader=cluster.grader(bank, head) if cluster else None)
            made = _grade(console, run, inputs, retry_errors)
        else:
            made = Made(Counter({"ungraded": unheard_only(out, bank, inputs.submissions())}), 0, 0, 0.0)
        final: Counter[str] = Counter()
        marks = write_all(out, bank, _counted(read_results(out / RESULTS), final), inputs.rejected)
    _tell_review(console, marks, out)
    failed = final.total() - final["graded"] - len(inputs.unheard)
    return Summary(made.statuses["graded"], failed, made.skipped, made.judged, made.seconds,
                   len(inputs.unheard), len(inputs.rejected))


def _tell_inputs(console: Console, inputs: Inputs) -> None:
    """One line for each row set aside, each recording that gave no answer (it is listed
    ungraded) and each recording transcribed in part."""
    for item in inputs.rejected:
        console.warn(f"skipped {item.source}: {item.reason}")
    for sub in inputs.unheard:
        console.warn(f"ungraded {sub.source}: {sub.unheard or ''}")
    for note in inputs.cut:
        console.warn(note)


def _grade(console: Console, run: BatchRun, inputs: Inputs, retry_errors: bool) -> Made:
    """Grade what is not done yet, then leave one result line per submission, in input order."""
    todo = judged = 0
    for sub in run.pending(inputs.submissions(), retry_errors):
        todo, judged = todo + 1, judged + (sub.unheard is None)
    start = time.perf_counter()
    with console.progress("grading", todo) as advance:
        statuses: Counter[str] = Counter(line.status for line in
                                         run.grade_all(run.pending(inputs.submissions()), advance))
    seconds = time.perf_counter() - start
    run.finalize(inputs.submissions())
    return Made(statuses, judged, inputs.count - len(inputs.unheard) - judged, seconds)


def _tell_review(console: Console, marks: Marks, out: Path) -> None:
    """The teacher's overrides are kept as they are; say which no longer apply."""
    for problem in marks.damaged:
        console.warn(problem)
    if marks.stale:
        verb = "applies" if marks.stale == 1 else "apply"
        console.warn(f"{plural(marks.stale, 'review override')} in {out}/overrides.jsonl no longer {verb} "
                     "(answer or rubric changed, or answer gone): listed in report.html")


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


def _counted(rows: Iterable[GradedAnswer], statuses: Counter[str]) -> Iterator[GradedAnswer]:
    for row in rows:
        statuses[row.status] += 1
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
