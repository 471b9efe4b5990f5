"""Reading a class's submissions: CSV, JSONL, or a folder of Markdown files (one per student).

Every row becomes a `Submission` or a `Rejected` with its file and line, so no
row is ever silently dropped.
"""

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from tutor.bank import Bank

FIELDS = ("student", "question", "answer")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")


@dataclass(frozen=True)
class Submission:
    source: str  # "file:line" for messages
    student: str
    question_id: str
    answer: str


@dataclass(frozen=True)
class Rejected:
    source: str
    student: str
    question: str
    reason: str


Row = Submission | Rejected


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


def _row(bank: Bank, source: str, student: str, question: str, answer: str | None) -> Row:
    if not student.strip():
        return Rejected(source, student, question, "missing student")
    question_id, problem = resolve_question(bank, question or "")
    if problem:
        return Rejected(source, student, question, problem)
    if answer is None:
        return Rejected(source, student, question, "missing answer field")
    return Submission(source, student.strip(), question_id, answer)


def read_csv(bank: Bank, path: Path) -> list[Row]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [f for f in FIELDS if f not in (reader.fieldnames or [])]
        if missing:
            return [Rejected(f"{path}:1", "", "", f"missing column(s): {', '.join(missing)}")]
        return [_row(bank, f"{path}:{reader.line_num}", r["student"] or "", r["question"] or "",
                     r["answer"]) for r in reader]


def read_jsonl(bank: Bank, path: Path) -> list[Row]:
    rows: list[Row] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        source = f"{path}:{number}"
        try:
            data = json.loads(line)
            rows.append(_row(bank, source, str(data.get("student", "")), str(data.get("question", "")),
                             data.get("answer")))
        except (ValueError, AttributeError) as exc:
            rows.append(Rejected(source, "", "", f"unreadable JSON ({exc})"))
    return rows


def read_markdown(bank: Bank, path: Path) -> list[Row]:
    """One student per file (the file name); each heading is a question, its body the answer."""
    rows: list[Row] = []
    heading, start, body = None, 0, []
    lines = path.read_text(encoding="utf-8").splitlines() + ["# end"]
    for number, line in enumerate(lines, 1):
        match = HEADING.match(line)
        if not match:
            body.append(line)
            continue
        if heading is not None:
            rows.append(_row(bank, f"{path}:{start}", path.stem, heading, "\n".join(body).strip()))
        heading, start, body = match.group(1), number, []
    return rows


def read_submissions(bank: Bank, targets: list[Path]) -> list[Row]:
    rows: list[Row] = []
    for target in targets:
        files = sorted(target.glob("*.md")) if target.is_dir() else [target]
        for path in files:
            rows.extend(_read_one(bank, path))
    return rows


def _read_one(bank: Bank, path: Path) -> list[Row]:
    readers = {".csv": read_csv, ".jsonl": read_jsonl, ".md": read_markdown}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        return [Rejected(str(path), "", "", "unsupported file type (use .csv, .jsonl or .md)")]
    try:
        return reader(bank, path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [Rejected(str(path), "", "", f"unreadable file ({exc})")]
