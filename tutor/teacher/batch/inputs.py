"""Reading a class's submissions: CSV, JSONL, or a folder of Markdown files (one per student).

Every row becomes a `Submission` or a `Rejected` with its file and line, so no
row is ever silently dropped. Files are read as streams, one row at a time: a
class of any size is never held whole in memory. When one (student, question)
appears more than once, the last row in input order counts, like a resubmission;
each earlier one is reported as superseded.
"""

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tutor.core.bank import Bank

FIELDS = ("student", "question", "answer")
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


@dataclass(frozen=True, slots=True)
class Rejected:
    source: str
    student: str
    question: str
    reason: str


Row = Submission | Rejected


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


def _row(bank: Bank, source: str, student: object, question: object, answer: object) -> Row:
    """A row's fields as read (any JSON type): text where text is needed, else the reason."""
    shown_student = student if isinstance(student, str) else ""
    shown_question = question if isinstance(question, str) else ""
    if not shown_student.strip():
        return Rejected(source, shown_student, shown_question, "missing student")
    if question is not None and not isinstance(question, str):
        return Rejected(source, shown_student, "", f"field 'question' must be text, not {_kind(question)}")
    question_id, problem = resolve_question(bank, shown_question)
    if problem or question_id is None:
        return Rejected(source, shown_student, shown_question, problem or "unknown question")
    if answer is None:
        return Rejected(source, shown_student, shown_question, "missing answer field")
    if not isinstance(answer, str):
        return Rejected(source, shown_student, shown_question,
                        f"field 'answer' must be text, not {_kind(answer)}")
    return Submission(source, shown_student.strip(), question_id, answer)


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
            yield _csv_row(bank, f"{path}:{line}", header, record, problem)


def _header_problem(header: list[str]) -> str | None:
    if any(UNDECODABLE.search(name) for name in header):
        return NOT_UTF8
    missing = [f for f in FIELDS if f not in header]
    return f"missing column(s): {', '.join(missing)}" if missing else None


def _csv_row(bank: Bank, source: str, header: list[str], record: list[str] | None,
             problem: str | None) -> Row:
    if record is None:
        return Rejected(source, "", "", problem or "unreadable CSV row")
    values = dict(zip(header, record, strict=False))
    if any(UNDECODABLE.search(v) for v in record):
        return Rejected(source, "", "", NOT_UTF8)
    return _row(bank, source, values.get("student", ""), values.get("question", ""), values.get("answer"))


def read_jsonl(bank: Bank, path: Path) -> Iterator[Row]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if raw.strip():
                yield _jsonl_row(bank, f"{path}:{number}", raw)


def _jsonl_row(bank: Bank, source: str, raw: bytes) -> Row:
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return Rejected(source, "", "", NOT_UTF8)
    except ValueError as exc:
        return Rejected(source, "", "", f"unreadable JSON ({exc})")
    if not isinstance(data, dict):
        return Rejected(source, "", "", f"a line must be a JSON object, not {_kind(data)}")
    return _row(bank, source, data.get("student"), data.get("question"), data.get("answer"))


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


READERS = {".csv": read_csv, ".jsonl": read_jsonl, ".md": read_markdown}


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
        yield Rejected(str(path), "", "", "unsupported file type (use .csv, .jsonl or .md)")
        return
    try:
        yield from reader(bank, path)
    except (OSError, UnicodeDecodeError) as exc:
        yield Rejected(str(path), "", "", f"unreadable file ({exc})")


@dataclass
class Inputs:
    """The submissions to grade, read again on each pass instead of held in memory.

    The first pass keeps only which row counts per (student, question) and the rejected rows."""

    bank: Bank
    targets: list[Path]
    skip: Path | None = None  # the batch's --out: its feedback files are not submissions
    rejected: list[Rejected] = field(default_factory=list, init=False)
    count: int = field(default=0, init=False)  # submissions that count
    _latest: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        earlier: list[tuple[str, tuple[str, str]]] = []  # (source, key) of rows a later one replaces
        for number, row in enumerate(iter_rows(self.bank, self.targets, self.skip)):
            if isinstance(row, Rejected):
                self.rejected.append(row)
                continue
            key = (row.student, row.question_id)
            if key in self._latest:
                earlier.append((self._latest[key][1], key))
            self._latest[key] = (number, row.source)
        self.rejected += [Rejected(source, student, question_id,
                                   f"superseded by {self._latest[(student, question_id)][1]} "
                                   f"({LAST_ROW_COUNTS})")
                          for source, (student, question_id) in earlier]
        self.count = len(self._latest)

    def submissions(self) -> Iterator[Submission]:
        """The submissions that count, in input order (a row added to a file since the first
        pass is not among them)."""
        for number, row in enumerate(iter_rows(self.bank, self.targets, self.skip)):
            if isinstance(row, Submission) and self._latest.get((row.student, row.question_id),
                                                                (None,))[0] == number:
                yield row
