"""Resumable batch grading: results are appended as they are made.

Each result line carries a cache key over (student, question, answer, rubric
version, model, thresholds). A re-run skips every key already in results.jsonl,
so a killed batch resumes where it stopped, an unchanged batch costs nothing,
and no row is ever written twice. At the end the file is rewritten in input
order, so an interrupted-and-resumed run ends byte-identical to a straight one.
Inputs and results are streamed: memory stays flat as a class grows.
"""

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from tutor.core.bank import Bank
from tutor.core.decide import Head
from tutor.core.errors import ExitCode, TutorError
from tutor.core.grader import grade
from tutor.core.judges.registry import ReliableJudge
from tutor.core.result import Grade
from tutor.core.rubric import Rubric
from tutor.teacher.batch.inputs import Submission
from tutor.teacher.records import GradedAnswer, read_results, results_lines

RESULTS = "results.jsonl"
WINDOW = 512  # answers read ahead and reordered at a time
Graded = Iterable[tuple[Submission, Grade]]  # answers with their grades, handed back together
Grader = Callable[[Iterable[Submission]], Iterator[Graded]]  # grades made elsewhere: `cluster.Dispatch`


def cache_key(sub: Submission, rubric_version: str, judge: ReliableJudge, head: Head) -> str:
    """Same answer, rubric, model and decision rule → the same grade: grade it once."""
    t = head.thresholds
    raw = json.dumps([sub.student, sub.question_id, sub.answer, rubric_version, judge.name,
                      head.name, t.key_point, t.misconception])
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def unheard_key(sub: Submission, rubric_version: str) -> str:
    """The key of a recording that gave no answer: no model reads it, so none is in the key
    (the batch need not load one to know it is done); a new reason (the file replaced, still
    bad) is a new row."""
    raw = json.dumps(["unheard", sub.student, sub.question_id, sub.audio, sub.unheard, rubric_version])
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def unheard_grade(rubric: Rubric, sub: Submission) -> Grade:
    """An `ungraded` grade for a recording that gave no answer; no model was called. The reason
    names the recording by its file name only: it reaches the student's feedback, the folders
    it came from are the teacher's."""
    reason = f"recording {Path(sub.audio or '').name}: {sub.unheard}"
    return Grade.ungraded(rubric.id, reason, rubric_version=rubric.version, pointer=rubric.pointer)


def unheard_only(out: Path, bank: Bank, subs: Iterable[Submission]) -> int:
    """results.jsonl when every answer that counts is a recording that gave none: their
    ungraded lines in input order, as `BatchRun.finalize` leaves them, with no model loaded.
    The number of lines."""
    lines = []
    for sub in subs:
        rubric = bank.get(sub.question_id)
        record = result_line(unheard_key(sub, rubric.version), sub, unheard_grade(rubric, sub))
        lines.append(record.line().encode())
    replace_lines(out / RESULTS, lines)
    return len(lines)


def result_line(key: str, sub: Submission, result: Grade) -> GradedAnswer:
    """One result record; a recorded answer also names its recording and duration, and
    `transcript: true` says the answer is what speech recognition heard."""
    return GradedAnswer.of(key, sub.student, sub.source, sub.answer, result, sub.audio, sub.audio_seconds,
                           sub.question_id)


def _end_cut_line(path: Path) -> None:
    """After a crash mid-write, start appending on a fresh line."""
    if path.exists() and path.stat().st_size:
        with path.open("rb+") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")


def by_question(subs: Iterable[Submission], window: int = WINDOW) -> Iterator[list[Submission]]:
    """Bounded windows, each with answers to the same question back to back (the local judge
    reuses its prefix): grading order, without holding the class in memory."""
    stream = iter(subs)
    while chunk := list(islice(stream, window)):
        yield sorted(chunk, key=lambda s: s.question_id)


def one_line(exc: Exception) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


@dataclass
class BatchRun:
    bank: Bank
    judge: ReliableJudge
    out: Path
    parallel_answers: int = 1  # answers graded at once (threads)
    done: set[str] | None = None  # keys already in results.jsonl, read once
    head: Head = field(kw_only=True)  # chosen for the judge by whoever built it
    grader: Grader | None = field(default=None, kw_only=True)  # None: graded in this process

    def key(self, sub: Submission) -> str:
        version = self.bank.get(sub.question_id).version
        return unheard_key(sub, version) if sub.unheard else cache_key(sub, version, self.judge, self.head)

    def pending(self, subs: Iterable[Submission], retry_errors: bool = False) -> Iterator[Submission]:
        """The submissions not graded yet, lazily; `retry_errors` first drops failed results."""
        if self.done is None:
            if retry_errors:
                self._rewrite(_graded_lines(self.path))
            self.done = {key for _, _, key in results_lines(self.path)}
        done = self.done
        return (s for s in subs if self.key(s) not in done)

    @property
    def path(self) -> Path:
        return self.out / RESULTS

    def grade_all(self, todo: Iterable[Submission],
                  advance: Callable[[], object] | None = None) -> Iterator[GradedAnswer]:
        """Grade and append each result as soon as it exists (`advance` hears of each); yields them."""
        _end_cut_line(self.path)
        pool = ThreadPoolExecutor(self.parallel_answers)
        try:
            with self.path.open("a", encoding="utf-8") as sink:
                for graded in (self.grader or partial(self._graded_here, pool=pool))(todo):
                    for sub, result in graded:
                        line = result_line(self.key(sub), sub, result)
                        sink.write(line.line())
                        sink.flush()
                        os.fsync(sink.fileno())
                        if advance:
                            advance()
                        yield line
        except KeyboardInterrupt:
            self._stop(pool)
            raise
        pool.shutdown()

    def _graded_here(self, todo: Iterable[Submission], pool: ThreadPoolExecutor) -> Iterator[Graded]:
        """The answers with their grades, made in this process, a window at a time (a cluster's
        workers make them instead when `grader` is set: the one seam between the two)."""
        for window in by_question(todo):
            yield zip(window, pool.map(self._grade_one, window), strict=True)

    def _stop(self, pool: ThreadPoolExecutor) -> None:
        """Ctrl-C: the answers not started are dropped and the judge abandons those in flight
        (their retries included), so the command ends at once; saved lines stay saved."""
        pool.shutdown(wait=False, cancel_futures=True)
        cancel = getattr(self.judge, "cancel", None)
        if callable(cancel):
            cancel()

    def _grade_one(self, sub: Submission) -> Grade:
        """One answer's grade; an unexpected failure costs that answer only (ungraded, with why)."""
        rubric = self.bank.get(sub.question_id)
        if sub.unheard:
            return unheard_grade(rubric, sub)
        try:
            return grade(rubric, sub.answer, self.judge, self.head)
        except TutorError as exc:
            if exc.exit_code == ExitCode.MODEL:
                raise  # a damaged model is no bad row: every row would fail; stop with its line
            return Grade.ungraded(rubric.id, exc.message, model=self.judge.name,
                                  rubric_version=rubric.version, pointer=rubric.pointer)
        except Exception as exc:  # noqa: BLE001 - one bad row never sinks the batch
            return Grade.ungraded(rubric.id, one_line(exc), model=self.judge.name,
                                  rubric_version=rubric.version, pointer=rubric.pointer)

    def finalize(self, subs: Iterable[Submission]) -> None:
        """Keep exactly one current line per submission, in input order."""
        self.done = None  # only `where` is needed now
        where = {key: offset for offset, _, key in results_lines(self.path)}
        self.path.touch()
        with self.path.open("rb") as source:
            self._rewrite(_copy(source, where.pop(self.key(s), None)) for s in subs)

    def results(self) -> Iterator[GradedAnswer]:
        """The graded answers, streamed (after `finalize`: one per submission, in input order)."""
        return read_results(self.path)

    def _rewrite(self, lines: Iterable[bytes | None]) -> None:
        replace_lines(self.path, lines)


def replace_lines(path: Path, lines: Iterable[bytes | None]) -> None:
    """`path` replaced whole by `lines` (None lines left out)."""
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as sink:
        sink.writelines(line for line in lines if line)
    os.replace(temporary, path)


def _graded_lines(path: Path) -> Iterator[bytes]:
    """The lines of answers that were graded (`--retry-errors` drops the others)."""
    lines = (line for _, line, _ in results_lines(path))
    return (line for line, answer in zip(lines, read_results(path), strict=True) if answer.status == "graded")


def _copy(source: BinaryIO, offset: int | None) -> bytes | None:
    if offset is None:
        return None
    source.seek(offset)
    return source.readline().rstrip(b"\n") + b"\n"


def answers_per_minute(count: int, seconds: float) -> float:
    return count / seconds * 60 if seconds > 0 else 0.0
