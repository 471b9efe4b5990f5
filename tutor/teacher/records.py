"""Graded answers as the teacher's files hold them: one typed record per line.

- `GradedAnswer`: a line of a marks folder's results.jsonl (`tutor grade`): who answered which
  question with what, where it came from (a recording: its file and length, and `transcript`),
  and the machine's `Grade`. Overrides, outputs, the review page and the teacher's labels read
  these records, never the raw JSON.
- `SavedGrade` and `SavedMeta`: the lines of a saved eval run (`tutor eval --out`, and
  reviewed-run.jsonl beside a reviewed marks folder): a gold answer's grade, and the run's
  timing. The answer's text and labels are the gold file's, so the line names it by id.

The JSON written is what it has always been, byte for byte; older results lines (before the
`review` flag) still load.
"""

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from tutor.core.errors import TutorError, first_problem
from tutor.core.result import Band, Grade

SPOKEN = frozenset({"audio", "audio_seconds", "transcript"})  # written only for a recorded answer


class GradedAnswer(BaseModel):
    """One graded answer of a class, as results.jsonl holds it. `score`, `band`, `status` and
    `review` repeat the grade's, so the file reads at a glance (and a script can filter it)."""

    model_config = ConfigDict(extra="forbid")

    key: str  # the cache key (`tutor.teacher.batch.run.cache_key`)
    student: str
    question_id: str
    score: float | None = None
    band: Band | None = None
    status: Literal["graded", "ungraded"]
    review: bool = False  # absent from results made before review flags
    source: str = ""  # "file:line", for messages
    answer: str  # what was graded: for a recording, its transcript
    audio: str | None = None  # a recorded answer: its recording
    audio_seconds: float | None = None
    transcript: bool = False  # the answer is what speech recognition heard
    grade: Grade

    @classmethod
    def of(cls, key: str, student: str, source: str, answer: str, grade: Grade,
           audio: str | None = None, audio_seconds: float | None = None,
           question_id: str | None = None) -> "GradedAnswer":
        """The record of `grade` (of the answer to `question_id`, by default the grade's), its
        summary fields taken from it."""
        return cls(key=key, student=student, question_id=question_id or grade.question_id, score=grade.score,
                   band=grade.band, status=grade.status, review=grade.review, source=source,
                   answer=answer, audio=audio, audio_seconds=audio_seconds, transcript=bool(audio),
                   grade=grade)

    def row(self) -> dict[str, Any]:
        """The results line's JSON object: the recording's fields only for a recorded answer."""
        return self.model_dump(mode="json", exclude=None if self.audio else set(SPOKEN))

    def line(self) -> str:
        """One results line, readable UTF-8; a lone surrogate (a file name's undecodable bytes in
        `source`) is written as its JSON escape instead, which reads back the same."""
        row = self.row()
        text = json.dumps(row, ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(row)
        return text + "\n"

    @property
    def who(self) -> tuple[str, str]:
        """(student, question id): the answer a teacher's overrides are about."""
        return self.student, self.question_id


def results_lines(path: Path) -> Iterator[tuple[int, bytes, str]]:
    """(offset, line, key) of each complete results line, streamed; a line cut short by a crash
    (no JSON, or no key) is skipped, and so graded again. The grades are not checked: resuming a
    batch needs only the keys."""
    for offset, line, _, row in _complete_lines(path):
        yield offset, line, row["key"]


def read_results(path: Path) -> Iterator[GradedAnswer]:
    """Every graded answer in results.jsonl, streamed (a line cut short by a crash skipped); a
    complete line that is not a graded answer is one error naming the file, line and field."""
    for _, _, number, row in _complete_lines(path):
        try:
            yield GradedAnswer.model_validate(row)
        except ValidationError as exc:
            raise TutorError(f"{path}:{number}: {first_problem(exc)}; not a line of "
                             "results.jsonl (`tutor grade` writes them)") from None


def _complete_lines(path: Path) -> Iterator[tuple[int, bytes, int, dict[str, Any]]]:
    """(offset, line, line number, JSON object) of each line that parses and has a key."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        offset = 0
        for number, line in enumerate(handle, 1):
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            if isinstance(row, dict) and isinstance(row.get("key"), str):
                yield offset, line.rstrip(b"\n") + b"\n", number, row
            offset += len(line)


class SavedGrade(BaseModel):
    """A line of a saved run: one gold answer's grade."""

    gold_id: str
    grade: Grade


class RunMeta(BaseModel):
    seconds: float = 0.0
    rerun_identical: tuple[int, int] | None = None


class SavedMeta(BaseModel):
    """The last line of a saved run: how long it took, whether re-grading changed anything."""

    meta: RunMeta


SAVED_RUN = "saved run (results.jsonl of `tutor eval --out`)"


def saved_run_lines(grades: Iterator[tuple[str, Grade]], meta: RunMeta) -> Iterator[str]:
    """A saved run's lines: one per graded gold answer, then the run's timing."""
    for gold_id, grade in grades:
        yield SavedGrade(gold_id=gold_id, grade=grade).model_dump_json() + "\n"
    yield SavedMeta(meta=meta).model_dump_json() + "\n"


def saved_line(path: Path, number: int, text: str) -> SavedGrade | SavedMeta:
    """One line of a saved run; anything else (a CSV, a line torn by a killed run, a NaN) is
    one line naming the file, line and why."""
    try:
        data = json.loads(text)
        bad = _non_finite(data)
        if bad:
            raise TutorError(f"{path}:{number}: field {bad}: not a finite number (NaN or Infinity); "
                             f"not a line of a {SAVED_RUN}")
        kind: type[SavedGrade | SavedMeta] = SavedMeta if isinstance(data, dict) and "meta" in data \
            else SavedGrade
        return kind.model_validate(data)
    except json.JSONDecodeError as exc:
        raise TutorError(f"{path}:{number}: unreadable JSON ({exc}); not a line of a {SAVED_RUN}, "
                         "or one torn by a killed run") from None
    except ValidationError as exc:
        raise TutorError(f"{path}:{number}: {first_problem(exc)}; not a line of a {SAVED_RUN}") from None


def _non_finite(data: object, where: str = "") -> str | None:
    """The dotted path of the first NaN or infinite number in `data` (JSON allows them; a
    grade never holds one), or None."""
    if isinstance(data, float) and not math.isfinite(data):
        return where or "value"
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        found = _non_finite(value, f"{where}.{key}" if where else str(key))
        if found:
            return found
    return None
