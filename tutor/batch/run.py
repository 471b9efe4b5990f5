"""Resumable batch grading: results are appended as they are made.

Each result line carries a cache key over (student, question, answer, rubric
version, model, thresholds). A re-run skips every key already in results.jsonl,
so a killed batch resumes where it stopped, an unchanged batch costs nothing,
and no row is ever written twice. At the end the file is rewritten in input
order, so an interrupted-and-resumed run ends byte-identical to a straight one.
"""

import hashlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from tutor.bank import Bank
from tutor.batch.inputs import Submission
from tutor.grade import Grade
from tutor.grader import grade
from tutor.judging import ReliableJudge

RESULTS = "results.jsonl"


def cache_key(sub: Submission, rubric_version: str, judge: ReliableJudge) -> str:
    """Same answer, rubric, model and decision rule → the same grade: grade it once."""
    t = judge.head.thresholds
    raw = json.dumps([sub.student, sub.question_id, sub.answer, rubric_version, judge.name,
                      judge.head.name, t.key_point, t.misconception])
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def result_line(key: str, sub: Submission, result: Grade) -> dict:
    return {"key": key, "student": sub.student, "question_id": sub.question_id,
            "score": result.score, "band": result.band.value if result.band else None,
            "status": result.status, "review": result.review, "source": sub.source, "answer": sub.answer,
            "grade": result.model_dump(mode="json")}


def read_results(path: Path) -> dict[str, dict]:
    """Lines already written; a line cut short by a crash is ignored (and re-graded)."""
    done: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                done[row["key"]] = row
            except (ValueError, KeyError, TypeError):
                continue
    return done


def _end_cut_line(path: Path) -> None:
    """After a crash mid-write, start appending on a fresh line."""
    if path.exists() and path.stat().st_size:
        with path.open("rb+") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")


@dataclass
class BatchRun:
    bank: Bank
    judge: ReliableJudge
    out: Path
    concurrency: int = 1

    def key(self, sub: Submission) -> str:
        return cache_key(sub, self.bank.get(sub.question_id).version, self.judge)

    def pending(self, subs: list[Submission], retry_errors: bool) -> list[Submission]:
        done = read_results(self.out / RESULTS)
        if retry_errors:
            done = {k: v for k, v in done.items() if v["status"] == "graded"}
            self._rewrite(list(done.values()))
        todo = [s for s in subs if self.key(s) not in done]
        # answers to the same question back to back: the local judge reuses its prefix
        return sorted(todo, key=lambda s: s.question_id)

    def grade_all(self, todo: list[Submission], progress: Progress | None = None) -> Iterator[dict]:
        """Grade and append each result as soon as it exists; yields the lines."""
        path = self.out / RESULTS
        _end_cut_line(path)
        with path.open("a", encoding="utf-8") as sink, ThreadPoolExecutor(self.concurrency) as pool:
            task = progress.add_task("grading", total=len(todo)) if progress else None
            results = pool.map(self._grade_one, todo)
            for sub, result in zip(todo, results, strict=True):
                line = result_line(self.key(sub), sub, result)
                sink.write(json.dumps(line, ensure_ascii=False) + "\n")
                sink.flush()
                os.fsync(sink.fileno())
                if progress:
                    progress.advance(task)
                yield line

    def _grade_one(self, sub: Submission) -> Grade:
        return grade(self.bank.get(sub.question_id), sub.answer, self.judge)

    def finalize(self, subs: list[Submission]) -> list[dict]:
        """Keep exactly one current line per submission, in input order."""
        done = read_results(self.out / RESULTS)
        rows = [done[k] for k in dict.fromkeys(self.key(s) for s in subs) if k in done]
        self._rewrite(rows)
        return rows

    def _rewrite(self, rows: list[dict]) -> None:
        path = self.out / RESULTS
        temporary = path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as sink:
            for row in rows:
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(temporary, path)


class RateColumn(ProgressColumn):
    """Answers per minute, from rich's own moving speed estimate."""

    def render(self, task) -> Text:
        return Text(f"{task.speed * 60:.1f} answers/min" if task.speed else "— answers/min")


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    RateColumn(), TextColumn("ETA"), TimeRemainingColumn())


def answers_per_minute(count: int, seconds: float) -> float:
    return count / seconds * 60 if seconds > 0 else 0.0
