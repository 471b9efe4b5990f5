"""A marks folder: what `tutor grade --out` makes and `tutor review` changes, and how it is written.

Its files: results.jsonl (the machine's grades, `tutor grade`'s), overrides.jsonl (a teacher's
changes, `tutor.teacher.overrides`), problems.csv (what the batch could not read or grade), and
the outputs made from results and overrides: gradebook.csv, feedback/*.md and report.html.
`calibrate --from` adds labelled.jsonl and reviewed-run.jsonl.

Threat model: a process killed at any instant (kill -9, a closed laptop, Ctrl-C), several
writers at once (review page tabs, two `tutor review`s, a `tutor grade` while reviewing), and a
file that cannot be written (read-only, a folder in its place, a full disk). The rules:

- overrides.jsonl is only appended to, under an exclusive lock on itself, and fsync'd. A line
  cut short by a crash stays as it is (and is reported); the next line starts on a new line.
- Outputs are written by one writer at a time, under the outputs lock.
- Every output is replaced whole or not at all: written beside itself under a hidden name, then
  renamed over the old one (`tutor.core.paths.replacing`). Feedback files, which grow answer by
  answer, are built in .feedback-building/ and each renamed into feedback/ once whole.
- The outputs say what they were made from: after a complete rebuild, the stamp records
  results.jsonl and overrides.jsonl as they were when the rebuild read them. Outputs whose stamp
  does not match are out of date (a rebuild cut short, or an override saved by a process killed
  before its rebuild ran): `review`, `eval --from` and `calibrate --from` make them again when
  they open the folder, and say so.
- A write that fails is one line naming the file; what was there stays whole, and nothing in
  results.jsonl or overrides.jsonl is ever rewritten to make an output.
"""

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tutor.core.errors import TutorError
from tutor.core.paths import read_only, replacing
from tutor.teacher.batch.run import RESULTS

OVERRIDES = "overrides.jsonl"
GRADEBOOK, REPORT, PROBLEMS, FEEDBACK = "gradebook.csv", "report.html", "problems.csv", "feedback"
LABELLED = "labelled.jsonl"  # the teacher's labels, in the gold format
REVIEWED_RUN = "reviewed-run.jsonl"  # the grader's grades of those answers, as `tutor eval --out` saves
OUTPUTS_LOCK = ".tutor-outputs.lock"
STAMP = ".tutor-outputs.stamp"  # what the outputs were made from
BUILDING = ".feedback-building"  # feedback files while they are written
Signature = dict[str, list[int] | None]  # file name → (inode, mtime in ns, size), None if absent


@dataclass(frozen=True)
class MarksFolder:
    """One marks folder's file names, locks, atomic writes and repair (the rules above)."""

    path: Path

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @contextmanager
    def outputs_locked(self) -> Iterator[None]:
        """One writer of the outputs at a time (`tutor grade`, review page tabs): they never mix."""
        try:
            handle = (self.path / OUTPUTS_LOCK).open("a")
        except OSError as exc:
            raise TutorError(f"{self.path / OUTPUTS_LOCK}: cannot write it ({exc.strerror}); "
                             "the outputs were left as they were") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    @contextmanager
    def replacing(self, name: str, hint: str = "") -> Iterator[Path]:
        """The path to write `name`'s new content to; it replaces `name` whole when done."""
        with replacing(self.path / name, hint) as temporary:
            yield temporary

    def append_override(self, line: bytes) -> None:
        """Add one line to overrides.jsonl, durably, never rewriting what is there. The exclusive
        lock keeps concurrent writers' lines whole and apart."""
        try:
            with (self.path / OVERRIDES).open("a+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
                _end_cut_line(handle)
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise TutorError(f"{self.path / OVERRIDES}: cannot save the change ({exc.strerror}); "
                             "nothing was saved") from None

    @contextmanager
    def reading_overrides(self) -> Iterator[BinaryIO | None]:
        """overrides.jsonl for reading under a shared lock (never a line half written), or None."""
        path = self.path / OVERRIDES
        if not path.exists():
            yield None
            return
        with path.open("rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            yield handle

    def signature(self) -> Signature:
        """results.jsonl and overrides.jsonl as they are now: what outputs made now reflect."""
        found: Signature = {}
        for name in (RESULTS, OVERRIDES):
            try:
                s = (self.path / name).stat()
                found[name] = [s.st_ino, s.st_mtime_ns, s.st_size]
            except FileNotFoundError:
                found[name] = None
        return found

    def stamp(self, made_from: Signature) -> None:
        """Record that every output is now made from `made_from` (written last, after them all)."""
        with self.replacing(STAMP) as temporary:
            temporary.write_text(json.dumps(made_from), encoding="utf-8")

    def outputs_current(self) -> bool:
        """The outputs were made, completely, from results.jsonl and overrides.jsonl as they are."""
        try:
            made_from = json.loads((self.path / STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return bool(made_from == self.signature())

    def feedback_builder(self) -> "FeedbackBuilder":
        return FeedbackBuilder(self.path / FEEDBACK, self.path / BUILDING)


def _end_cut_line(handle: BinaryIO) -> None:
    """A line cut short by a crash stays as it is (and is reported); ours starts on a new line."""
    if handle.seek(0, os.SEEK_END):
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) != b"\n":
            handle.write(b"\n")


class FeedbackBuilder:
    """Feedback files built aside, appended to in any order, then each moved into place whole."""

    def __init__(self, folder: Path, building: Path):
        self.folder, self.building = folder, building
        if building.exists():  # left by a rebuild that was cut short
            shutil.rmtree(building)
        _make_folder(building)

    def append(self, name: str, text: str) -> None:
        with (self.building / name).open("a", encoding="utf-8") as handle:
            handle.write(text)

    def started(self, name: str) -> bool:
        return (self.building / name).exists()

    def finish(self) -> None:
        """Each built file replaces its namesake in feedback/; files of students no longer in
        the results stay as they were."""
        _make_folder(self.folder)
        for built in sorted(self.building.iterdir()):
            with replacing(self.folder / built.name) as temporary:
                os.replace(built, temporary)
        shutil.rmtree(self.building)


def _make_folder(path: Path) -> None:
    try:
        if read_only(path.parent):
            raise PermissionError(13, "its folder is read-only")
        path.mkdir(exist_ok=True)
    except OSError as exc:
        raise TutorError(f"{path}: cannot write it ({exc.strerror}); it was left as it was") from None
