"""Reading a class's submissions: CSV, JSONL, or a folder of Markdown files (one per student).

Every row becomes a `Submission` or a `Rejected` with its file and line, so no
row is ever silently dropped. Files are read as streams, one row at a time: a
class of any size is never held whole in memory. When one (student, question)
appears more than once, the last row in input order counts, like a resubmission;
each earlier one is reported as superseded.

Answers may be recordings (`audio`): a folder per student holding one recording per
question, named by its id (`ann/w06-thu-4.m4a`), or CSV/JSONL rows with an `audio` column
(a path relative to that file) instead of `answer`. Each recording that counts is transcribed
once (`audio.Transcripts`) and its transcript is the answer; an unreadable or silent one is
a rejected row.
"""

import csv
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tutor.core.bank import Bank
from tutor.core.speech.transcriber import RecordingError
from tutor.teacher.batch.audio import TRANSCRIPTS, Recording, Transcripts

FIELDS = ("student", "question", "answer")
AUDIO = "audio"  # the column that replaces `answer` for a recorded answer
AUDIO_SUFFIXES = (".wav", ".mp3", ".m4a", ".ogg", ".webm", ".flac", ".opus")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")
UNDECODABLE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of invalid UTF-8 bytes
NOT_UTF8 = "not valid UTF-8 text (save the file as UTF-8)"
LAST_ROW_COUNTS = "the last row for a student and question is graded"


@dataclass(frozen=True, slots=True)
class Submission:
    source: str  # "file:line" for messages
    student: str
    question_id: str
    answer: str
    audio: str | None = None  # a recorded answer: the recording (`answer` is its transcript)
    audio_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    source: str
    student: str
    question: str
    reason: str


Row = Submission | Rejected | Recording


@lru_cache(maxsize=4096)  # a class repeats a few questions over thousands of rows
def resolve_question(bank: Bank, ref: str) -> tuple[str | None, str | None]:
    """(question id, None) or (None, why not): by id, else by deck text, loosely."""
    ref = ref.strip()
    if ref in {r.id for r in bank.rubrics}:
        return ref, None
    matches = bank.match_text(ref)
    if len(matches) == 1:
        return matches[0].id, None
    if matches:
        return None, f"question text matches {len(matches)} questions"
    return None, f"unknown question '{ref[:60]}'"


def _row(bank: Bank, source: str, student: object, question: object, answer: object,
         audio: object = None, base: Path | None = None) -> Row:
    """A row's fields as read (any JSON type): text where text is needed, else the reason.
    A non-empty `audio` (a path relative to `base`) makes it a recorded answer."""
    shown_student = student if isinstance(student, str) else ""
    shown_question = question if isinstance(question, str) else ""
    if not shown_student.strip():
        return Rejected(source, shown_student, shown_question, "missing student")
    if question is not None and not isinstance(question, str):
        return Rejected(source, shown_student, "", f"field 'question' must be text, not {_kind(question)}")
    question_id, problem = resolve_question(bank, shown_question)
    if problem or question_id is None:
        return Rejected(source, shown_student, shown_question, problem or "unknown question")
    if audio not in (None, ""):
        return _recording(source, shown_student.strip(), shown_question, question_id, answer, audio, base)
    if answer is None:
        return Rejected(source, shown_student, shown_question, "missing answer field")
    if not isinstance(answer, str):
        return Rejected(source, shown_student, shown_question,
                        f"field 'answer' must be text, not {_kind(answer)}")
    return Submission(source, shown_student.strip(), question_id, answer)


def _recording(source: str, student: str, question: str, question_id: str, answer: object,
               audio: object, base: Path | None) -> Row:
    if not isinstance(audio, str):
        return Rejected(source, student, question, f"field 'audio' must be a file path, not {_kind(audio)}")
    if answer not in (None, ""):
        return Rejected(source, student, question, "give either 'answer' or 'audio', not both")
    return Recording(source, student, question_id, (base or Path()) / audio.strip())


def _kind(value: object) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _csv_records(handle: Iterable[str]) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first line, fields, None) per record, or (line, None, why) for one the csv module
    cannot read (a field over its size limit): that record is lost, the rest is read."""
    reader = csv.reader(handle)
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, None, f"unreadable CSV row ({exc})"
            continue
        if record:
            yield line, record, None


def read_csv(bank: Bank, path: Path) -> Iterator[Row]:
    # utf-8-sig: Excel's "CSV UTF-8" starts with a BOM; surrogateescape: one bad byte costs one row
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        records = _csv_records(handle)
        _, header, _ = next(records, (1, [], None))
        header = [name.strip() for name in header or []]
        problem = _header_problem(header)
        if problem:
            yield Rejected(f"{path}:1", "", "", problem)
            return
        for line, record, problem in records:
            yield _csv_row(bank, f"{path}:{line}", header, record, problem, path.parent)


def _header_problem(header: list[str]) -> str | None:
    if any(UNDECODABLE.search(name) for name in header):
        return NOT_UTF8
    missing = [f for f in FIELDS if f not in header and not (f == "answer" and AUDIO in header)]
    return f"missing column(s): {', '.join(missing)}" if missing else None


def _csv_row(bank: Bank, source: str, header: list[str], record: list[str] | None,
             problem: str | None, base: Path) -> Row:
    if record is None:
        return Rejected(source, "", "", problem or "unreadable CSV row")
    values = dict(zip(header, record, strict=False))
    if any(UNDECODABLE.search(v) for v in record):
        return Rejected(source, "", "", NOT_UTF8)
    return _row(bank, source, values.get("student", ""), values.get("question", ""), values.get("answer"),
                values.get(AUDIO), base)


def read_jsonl(bank: Bank, path: Path) -> Iterator[Row]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if raw.strip():
                yield _jsonl_row(bank, f"{path}:{number}", raw, path.parent)


def _jsonl_row(bank: Bank, source: str, raw: bytes, base: Path) -> Row:
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return Rejected(source, "", "", NOT_UTF8)
    except ValueError as exc:
        return Rejected(source, "", "", f"unreadable JSON ({exc})")
    if not isinstance(data, dict):
        return Rejected(source, "", "", f"a line must be a JSON object, not {_kind(data)}")
    return _row(bank, source, data.get("student"), data.get("question"), data.get("answer"),
                data.get(AUDIO), base)


def read_markdown(bank: Bank, path: Path) -> Iterator[Row]:
    """One student per file (the file's name without its suffix, also in a subfolder);
    each heading is a question, its body the answer."""
    rows, heading, start, body = 0, None, 0, []
    lines = path.read_text(encoding="utf-8-sig").splitlines() + ["# end"]
    for number, line in enumerate(lines, 1):
        match = HEADING.match(line)
        if not match:
            body.append(line)
            continue
        if heading is not None:
            rows += 1
            yield _row(bank, f"{path}:{start}", path.stem, heading, "\n".join(body).strip())
        heading, start, body = match.group(1), number, []
    if not rows:
        yield Rejected(str(path), path.stem, "", "no headings: put each answer under a heading naming "
                                                 "its question")


def read_recording(bank: Bank, path: Path) -> Iterator[Row]:
    """One recorded answer: the student is the folder's name, the question the file's."""
    question_id, problem = resolve_question(bank, path.stem)
    if problem or question_id is None:
        yield Rejected(str(path), path.parent.name, path.stem,
                       f"{problem}: name each recording by its question id (ann/w06-thu-4.m4a)")
        return
    yield Recording(str(path), path.parent.name, question_id, path)


READERS = {".csv": read_csv, ".jsonl": read_jsonl, ".md": read_markdown} | dict.fromkeys(
    AUDIO_SUFFIXES, read_recording)


def submission_files(target: Path, skip: Path | None = None) -> list[Path]:
    """A file, or every file under a folder and its subfolders (each is read or reported);
    hidden files and folders (".DS_Store", ".git/") are not submissions, nor is anything in
    `skip` (the batch's own --out, when it lies inside the submissions folder)."""
    if not target.is_dir():
        return [target]
    outside = skip.resolve() if skip else None
    return sorted(p for p in target.rglob("*") if not p.is_dir()
                  and not any(part.startswith(".") for part in p.relative_to(target).parts)
                  and (outside is None or outside not in p.resolve().parents))


def iter_rows(bank: Bank, targets: list[Path], skip: Path | None = None) -> Iterator[Row]:
    """Every row of every file, in input order; a file named twice is read once."""
    files = dict.fromkeys(p for target in targets for p in submission_files(target, skip))
    for path in files:
        yield from _read_one(bank, path)


def read_submissions(bank: Bank, targets: list[Path]) -> list[Row]:
    return list(iter_rows(bank, targets))


def _read_one(bank: Bank, path: Path) -> Iterator[Row]:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        yield Rejected(str(path), "", "", "unsupported file type (use .csv, .jsonl, .md or a recording: "
                                          f"{', '.join(AUDIO_SUFFIXES)})")
        return
    try:
        yield from reader(bank, path)
    except (OSError, UnicodeDecodeError) as exc:
        yield Rejected(str(path), "", "", f"unreadable file ({exc})")


@dataclass
class Inputs:
    """The submissions to grade, read again on each pass instead of held in memory.

    The first pass keeps only which row counts per (student, question) and the rejected rows;
    then each recording that counts is transcribed (once: see `audio.Transcripts`), and one
    that gives no answer joins the rejected rows."""

    bank: Bank
    targets: list[Path]
    skip: Path | None = None  # the batch's --out: its feedback files are not submissions
    terms: Sequence[str] = ()  # the course's speech terms, for recorded answers
    transcripts: Transcripts | None = None  # default: cached under `skip`/transcripts
    rejected: list[Rejected] = field(default_factory=list, init=False)
    count: int = field(default=0, init=False)  # submissions that count
    _latest: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict, init=False)
    _heard: dict[str, Submission] = field(default_factory=dict, init=False)  # recordings, by source

    def __post_init__(self) -> None:
        earlier: list[tuple[str, tuple[str, str]]] = []  # (source, key) of rows a later one replaces
        recordings: dict[tuple[str, str], Recording] = {}
        for number, row in enumerate(iter_rows(self.bank, self.targets, self.skip)):
            if isinstance(row, Rejected):
                self.rejected.append(row)
                continue
            key = (row.student, row.question_id)
            if key in self._latest:
                earlier.append((self._latest[key][1], key))
                recordings.pop(key, None)
            self._latest[key] = (number, row.source)
            if isinstance(row, Recording):
                recordings[key] = row
        self.rejected += [Rejected(source, student, question_id,
                                   f"superseded by {self._latest[(student, question_id)][1]} "
                                   f"({LAST_ROW_COUNTS})")
                          for source, (student, question_id) in earlier]
        self._transcribe(recordings)
        self.count = len(self._latest)

    def _transcribe(self, recordings: dict[tuple[str, str], Recording]) -> None:
        """Each recording that counts, as a submission (its transcript the answer) or a
        rejected row."""
        if not recordings:
            return
        if self.transcripts is None:
            self.transcripts = Transcripts(self.skip / TRANSCRIPTS if self.skip else None, self.terms)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task("transcribing", total=len(recordings))
            for key, recording in recordings.items():
                row = _heard(self.transcripts, recording)
                if isinstance(row, Rejected):
                    self.rejected.append(row)
                    del self._latest[key]
                else:
                    self._heard[recording.source] = row
                progress.advance(task)

    def submissions(self) -> Iterator[Submission]:
        """The submissions that count, in input order (a row added to a file since the first
        pass is not among them)."""
        for number, row in enumerate(iter_rows(self.bank, self.targets, self.skip)):
            if isinstance(row, Rejected) or self._latest.get((row.student, row.question_id),
                                                             (None,))[0] != number:
                continue
            yield self._heard[row.source] if isinstance(row, Recording) else row


def _heard(transcripts: Transcripts, recording: Recording) -> Submission | Rejected:
    try:
        answer, heard = transcripts.written(recording.audio)
    except RecordingError as exc:  # the row names the file already
        reason = exc.message.removeprefix(f"{recording.audio}: ")
        return Rejected(recording.source, recording.student, recording.question_id, reason)
    return Submission(recording.source, recording.student, recording.question_id, answer,
                      audio=str(recording.audio), audio_seconds=round(heard.seconds, 2))
