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
a submission with no answer and the reason (`Submission.unheard`), listed `ungraded` in every
output like an answer whose grading failed, so its student is never missing from them.
"""

import csv
import io
import itertools
import json
import os
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt

from tutor.core.answer import MAX_WORDS
from tutor.core.bank import Bank
from tutor.core.console import Console, plural
from tutor.core.speech.transcriber import RecordingError
from tutor.teacher.batch.audio import TRANSCRIPTS, Recording, Transcripts

FIELDS = ("student", "question", "answer")
AUDIO = "audio"  # the column that replaces `answer` for a recorded answer
AUDIO_SUFFIXES = (".wav", ".mp3", ".m4a", ".ogg", ".webm", ".flac", ".opus")
UNSPACED = re.compile(r"^ {0,3}#{1,6}(\S.*)$")  # `#w06-thu-4`: a heading but for its space
UNDECODABLE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of invalid UTF-8 bytes
SURROGATE = re.compile("[\ud800-\udfff]")  # no text: JSON's "\ud800" escapes, undecodable bytes
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
    unheard: str | None = None  # a recording that gave no answer (unreadable, empty, silent): why


@dataclass(frozen=True, slots=True)
class Rejected:
    source: str
    student: str
    question: str
    reason: str


Row = Submission | Rejected | Recording


@lru_cache(maxsize=4096)  # a class repeats a few questions over thousands of rows
def resolve_question(bank: Bank, ref: str) -> tuple[str | None, str | None]:
    """(question id, None) or (None, why not): by id (any case), else by deck text, loosely."""
    ref = ref.strip()
    by_id = bank.find(ref)
    if by_id is not None:
        return by_id.id, None
    matches = bank.match_text(ref)
    if len(matches) == 1:
        return matches[0].id, None
    if matches:
        return None, f"question text matches {len(matches)} questions"
    return None, f"unknown question '{ref[:60]}'"


def _row(bank: Bank, source: str, student: object, question: object, answer: object,
         audio: object = None, place: "AudioFolder | None" = None) -> Row:
    """A row's fields as read (any JSON type): text where text is needed, else the reason.
    A student id may be a whole number (a class exported with numeric ids). A non-empty
    `audio` (a path relative to its file's folder, `place`) makes it a recorded answer."""
    not_text = _not_text(student=student, question=question, answer=answer, audio=audio)
    if not_text:
        return Rejected(source, "", "", not_text)
    shown_question = question if isinstance(question, str) else ""
    shown_student = _student_id(source, student, shown_question)
    if isinstance(shown_student, Rejected):
        return shown_student
    if question is not None and not isinstance(question, str):
        return Rejected(source, shown_student, "", f"field 'question' must be text, not {_kind(question)}")
    question_id, problem = resolve_question(bank, shown_question)
    if problem or question_id is None:
        return Rejected(source, shown_student, shown_question, problem or "unknown question")
    if audio not in (None, ""):
        return _recording(source, shown_student.strip(), shown_question, question_id, answer, audio, place)
    if answer is None:
        return Rejected(source, shown_student, shown_question, "missing answer field")
    if not isinstance(answer, str):
        return Rejected(source, shown_student, shown_question,
                        f"field 'answer' must be text, not {_kind(answer)}")
    return Submission(source, shown_student.strip(), question_id, answer)


def _not_text(**fields: object) -> str | None:
    """Why a field cannot be text (a lone surrogate, such as JSON's "\\ud800", encodes to no
    file), or None. Such a row would crash every output it reached, so it is refused here."""
    for name, value in fields.items():
        if isinstance(value, str) and SURROGATE.search(value):
            return f"field '{name}' is not valid text (a lone surrogate such as \\ud800; save it as UTF-8)"
    return None


def _student_id(source: str, value: object, question: str) -> str | Rejected:
    """A student id as text: text as it is, a whole number in its digits (JSON 12345); a
    decimal, true/false, a list or an object is refused, saying which."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is not None and not isinstance(value, str):
        return Rejected(source, "", question,
                        f"field 'student' must be text or a whole number, not {_kind(value)}")
    if not (value or "").strip():
        return Rejected(source, value or "", question, "missing student")
    return value or ""


def _recording(source: str, student: str, question: str, question_id: str, answer: object,
               audio: object, place: "AudioFolder | None") -> Row:
    if not isinstance(audio, str):
        return Rejected(source, student, question, f"field 'audio' must be a file path, not {_kind(audio)}")
    if answer not in (None, ""):
        return Rejected(source, student, question, "give either 'answer' or 'audio', not both")
    found = (place or AudioFolder(Path(), Path())).locate(audio.strip())
    if isinstance(found, str):
        return Rejected(source, student, question, found)
    return Recording(source, student, question_id, found)


OUTSIDE_OPTION = "--allow-outside-audio"


@dataclass(frozen=True)
class AudioFolder:
    """Where a CSV or JSONL row's `audio` path may lead: it is relative to its file's folder
    (`base`) and stays inside the submissions folder (`root`: the folder given to `tutor grade`,
    else the file's own folder), links followed, unless `outside` (--allow-outside-audio) lets
    it go anywhere. A class file from elsewhere must not make the batch read `../../x.wav`, an
    absolute path or a link to one, and copy what it hears into the marks folder."""

    base: Path
    root: Path
    outside: bool = False

    def locate(self, value: str) -> Path | str:
        """The recording's path, or why the field is refused (one line naming the field)."""
        if "\0" in value:
            return "field 'audio' holds a NUL character: not a file path"
        if "\\" in value:
            return f"field 'audio' holds a backslash ({value[:80]}): write the path with / (audio/ann.wav)"
        path = Path(value)
        if self.outside:
            return self.base / path
        if path.is_absolute():
            return (f"field 'audio' is an absolute path ({value[:80]}): give it relative to {self.base}, "
                    f"inside the submissions folder (or pass {OUTSIDE_OPTION})")
        return self._inside(self.base / path, value)

    def _inside(self, path: Path, value: str) -> Path | str:
        root = Path(os.path.abspath(self.root))
        if not Path(os.path.abspath(path)).is_relative_to(root):
            return (f"field 'audio' leads outside the submissions folder {self.root} ({value[:80]}): keep "
                    f"recordings inside it (or pass {OUTSIDE_OPTION})")
        if not path.resolve().is_relative_to(root.resolve()):
            return (f"field 'audio' is a link to a file outside the submissions folder {self.root} "
                    f"({value[:80]}): copy the recording in (or pass {OUTSIDE_OPTION})")
        return path


def _kind(value: object) -> str:
    if isinstance(value, float):
        return f"a decimal number ({value!r})"
    names = {bool: "true/false", int: "a number", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


class _Lines:
    """The file's lines for the csv reader, numbered, with the lines of the record being read
    kept (`taken`) so that a record which swallowed rows can give them back (`give_back`)."""

    def __init__(self, handle: Iterable[str]):
        self._lines = enumerate(handle, 1)
        self._back: deque[tuple[int, str]] = deque()
        self.taken: list[tuple[int, str]] = []
        self.at_end = False  # the record being read reached the end of the file

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self._back.popleft() if self._back else next(self._lines, None)
        if line is None:
            self.at_end = True
            raise StopIteration
        self.taken.append(line)
        return line[1]

    def start(self) -> None:
        """A new record begins."""
        self.taken, self.at_end = [], False

    def give_back(self) -> None:
        """Every line of the record but its first is read again, as rows of their own."""
        self._back.extendleft(reversed(self.taken[1:]))


RowShaped = Callable[[str], bool]


def _csv_records(handle: Iterable[str], row_shaped: RowShaped | None = None, header: Sequence[str] = (),
                 ) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(first line, fields, None) per record, or (line, None, why) for one the csv module
    cannot read (a field over its size limit), or for a quoted field left open, which would
    swallow the rows after it (`_runaway`): that record is lost, the rows it swallowed are
    read again on their own. `header` (filled once the first record is read) gives the width
    of a well-formed row."""
    lines = _Lines(handle)
    reader = csv.reader(lines)
    while True:
        lines.start()
        try:
            record, problem = next(reader), None
        except StopIteration:
            return
        except csv.Error as exc:
            record, problem = None, f"unreadable CSV row ({exc})"
        problem = problem or _runaway(lines, row_shaped, _well_formed(lines, record, header))
        if problem:
            lines.give_back()
        if problem or record:
            yield lines.taken[0][0], None if problem else record, problem


def _well_formed(lines: _Lines, record: list[str] | None, header: Sequence[str]) -> bool:
    """A record whose quotes close cleanly (strict parsing agrees) into as many fields as the
    header names: a multi-line answer, even when one of its lines looks like a row."""
    return bool(header) and record is not None and len(record) == len(header) \
        and not _open_at_end("".join(text for _, text in lines.taken))


def _runaway(lines: _Lines, row_shaped: RowShaped | None, well_formed: bool = False) -> str | None:
    """Why this record is a quoted field that was never closed, or None: it runs to the end
    of the file still inside its quotes, or it holds a line shaped like a row of its own
    (unless it is `well_formed`)."""
    fix = "close the quote (a quote inside a field is written twice: \"\")"
    if lines.at_end and _open_at_end("".join(text for _, text in lines.taken)):
        return f"unbalanced quote: the field opened on this line runs to the end of the file; {fix}"
    if well_formed:
        return None
    rows = [number for number, text in lines.taken[1:] if row_shaped and row_shaped(text)]
    if rows:
        return f"unbalanced quote: the field opened on this line swallows the row on line {rows[0]}; {fix}"
    return None


def _open_at_end(text: str) -> bool:
    """The text ends inside a quoted field, or a quote closes in the middle of a field (strict
    parsing says so; the default reader would silently end the field at the end of the file)."""
    try:
        list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error:
        return True
    return False


def read_csv(bank: Bank, path: Path, place: AudioFolder | None = None) -> Iterator[Row]:
    """`place`: where `audio` paths may lead (default: inside the file's own folder)."""
    place = place or AudioFolder(path.parent, path.parent)
    # utf-8-sig: Excel's "CSV UTF-8" starts with a BOM; surrogateescape: one bad byte costs one row
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        header: list[str] = []
        records = _csv_records(handle, lambda line: _row_shaped(bank, header, line), header)
        _, first, _ = next(records, (1, [], None))
        header += [name.strip().casefold() for name in first or []]
        problem = _header_problem(header)
        if problem:
            yield Rejected(f"{path}:1", "", "", problem)
            return
        for line, record, problem in records:
            yield _csv_row(bank, f"{path}:{line}", header, record, problem, place)


def _row_shaped(bank: Bank, header: list[str], line: str) -> bool:
    """A line that reads as a row of this file: a student and a known question."""
    values = dict(zip(header, next(csv.reader([line]), []), strict=False))
    student, question = values.get("student", "").strip(), values.get("question", "")
    return bool(student) and resolve_question(bank, question)[0] is not None


def _header_problem(header: list[str]) -> str | None:
    if any(UNDECODABLE.search(name) for name in header):
        return NOT_UTF8
    missing = [f for f in FIELDS if f not in header and not (f == "answer" and AUDIO in header)]
    if missing:
        return f"missing column(s): {', '.join(missing)}"
    twice = sorted(name for name, count in Counter(filter(None, header)).items() if count > 1)
    return f"duplicate column(s): {', '.join(twice)} (name each once)" if twice else None


def _csv_row(bank: Bank, source: str, header: list[str], record: list[str] | None,
             problem: str | None, place: AudioFolder) -> Row:
    if record is None:
        return Rejected(source, "", "", problem or "unreadable CSV row")
    if any(UNDECODABLE.search(v) for v in record):
        return Rejected(source, "", "", NOT_UTF8)
    if any(v.strip() for v in record[len(header):]):
        fields = plural(len(record), "field")
        return Rejected(source, "", "", f"{fields} but the header names {len(header)}: quote a "
                                        'field that holds a comma ("2 bytes, so 140 GB")')
    values = dict(zip(header, record, strict=False))
    return _row(bank, source, values.get("student", ""), values.get("question", ""), values.get("answer"),
                values.get(AUDIO), place)


def read_jsonl(bank: Bank, path: Path, place: AudioFolder | None = None) -> Iterator[Row]:
    """`place`: where `audio` paths may lead (default: inside the file's own folder)."""
    place = place or AudioFolder(path.parent, path.parent)
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if raw.strip():
                yield _jsonl_row(bank, f"{path}:{number}", raw, place)


def _jsonl_row(bank: Bank, source: str, raw: bytes, place: AudioFolder) -> Row:
    try:
        data = json.loads(raw.decode("utf-8-sig"), object_pairs_hook=_unique_keys)
    except UnicodeDecodeError:
        return Rejected(source, "", "", NOT_UTF8)
    except DuplicateField as exc:
        return Rejected(source, "", "", str(exc))
    except ValueError as exc:
        return Rejected(source, "", "", f"unreadable JSON ({exc})")
    if not isinstance(data, dict):
        return Rejected(source, "", "", f"a line must be a JSON object, not {_kind(data)}")
    return _row(bank, source, data.get("student"), data.get("question"), data.get("answer"),
                data.get(AUDIO), place)


class DuplicateField(ValueError):
    """A JSON object naming one field twice: json.loads would silently keep the last."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """The object with its field names as the CSV header's are read (spaces around them and
    case ignored): `"Answer"` is `answer`, so `"answer "` beside `"answer"` is named twice."""
    named = [(name.strip().casefold(), value) for name, value in pairs]
    twice = sorted(name for name, count in Counter(name for name, _ in named).items() if count > 1)
    if twice:
        raise DuplicateField(f"duplicate field(s): {', '.join(twice)} (name each once)")
    return dict(named)


HEADING_IN_ANSWER = "a line starting with # inside an answer is written \\# or indented"


def read_markdown(bank: Bank, path: Path) -> Iterator[Row]:
    """One student per file (the file's name without its suffix, also in a subfolder);
    each heading is a question, its body the answer. Text before the first heading, and a
    heading that names no question (it cuts the answer above it), are reported."""
    sections = _sections(path.read_text(encoding="utf-8-sig").splitlines(),
                         lambda text: resolve_question(bank, text)[0] is not None)
    if len(sections) == 1:
        yield Rejected(str(path), path.stem, "", "no headings: put each answer under a heading naming "
                                                 "its question")
        return
    if sections[0][2]:
        yield Rejected(f"{path}:1", path.stem, "", "text before the first heading answers no question and "
                                                   "is not graded: move it under its question's heading")
    for (before, above, _), (start, heading, body) in itertools.pairwise(sections):
        cut = _cut_answer(bank, before, above, heading or "")
        source = f"{path}:{start}"
        yield Rejected(source, path.stem, heading or "", cut) if cut else \
            _row(bank, source, path.stem, heading, body)


def _cut_answer(bank: Bank, before: int, above: str | None, heading: str) -> str | None:
    """Why a heading that names no question, right after an answer, is reported: it cut that
    answer short (a line such as `# of heads = 8` inside it)."""
    if above is None or resolve_question(bank, heading)[0] or not resolve_question(bank, above)[0]:
        return None
    return (f"heading '{heading}' names no question, so it cut the answer on line {before} here; the text "
            f"under it is not graded ({HEADING_IN_ANSWER})")


def _sections(lines: list[str], names_question: Callable[[str], bool] = bool,
              ) -> list[tuple[int, str | None, str]]:
    """(line, heading, body) per heading, after the text before the first (heading None).
    A body line written `\\# …` is a `# …` line of the answer, not a heading."""
    headings = _headings(lines, names_question)
    sections: list[tuple[int, str | None, list[str]]] = [(1, None, [])]
    skip = 0
    for index, line in enumerate(lines):
        if index < skip:
            continue
        if index in headings:
            skip, heading = headings[index]
            sections.append((index + 1, heading, []))
        else:
            sections[-1][2].append(line.replace("\\#", "#", 1) if line.lstrip().startswith("\\#") else line)
    return [(number, heading, "\n".join(body).strip()) for number, heading, body in sections]


def _headings(lines: list[str], names_question: Callable[[str], bool]) -> dict[int, tuple[int, str]]:
    """{first line index: (index after it, heading text)} for each top-level CommonMark heading:
    `# id` with up to 3 spaces before it, or an id underlined with `===`/`---` (setext: only
    when it names a question, else a rule under a line of the answer). A line `#id` that names
    a question (the space forgotten) is a heading too. Code blocks keep their lines."""
    tokens = MarkdownIt("commonmark").parse("\n".join(lines))
    found: dict[int, tuple[int, str]] = {}
    for token, inline in itertools.pairwise(tokens):
        if token.type == "heading_open" and token.level == 0 and token.map:
            start, end = token.map
            text = inline.content.splitlines()[-1].strip() if inline.content else ""
            if token.markup in ("=", "-"):  # setext: the text's last line, then the underline
                start = end - 2
                if not names_question(text):
                    continue
            found[start] = (end, text)
        elif token.type == "paragraph_open" and token.level == 0 and token.map:
            found |= _unspaced(lines, token.map[0], token.map[1], names_question)
    return found


def _unspaced(lines: list[str], start: int, end: int, names_question: Callable[[str], bool],
              ) -> dict[int, tuple[int, str]]:
    """`#w06-thu-4` lines of a paragraph that name a question: headings without their space."""
    matches = ((index, UNSPACED.match(lines[index])) for index in range(start, end))
    return {index: (index + 1, match.group(1).strip()) for index, match in matches
            if match and names_question(match.group(1).strip())}


def read_recording(bank: Bank, path: Path, student: str | None = None) -> Iterator[Row]:
    """One recorded answer: the student is the first folder under the submissions folder
    (`student`; for a recording named alone, its folder), the question the file's name."""
    student = path.parent.name if student is None else student
    question_id, problem = resolve_question(bank, path.stem)
    if problem or question_id is None:
        yield Rejected(str(path), student, path.stem,
                       f"{problem}: name each recording by its question id (ann/w06-thu-4.m4a)")
        return
    yield Recording(str(path), student, question_id, path)


def _student_folder(root: Path, path: Path) -> str:
    """The student a recording under the folder `root` belongs to: the first folder under it
    (LMS exports nest: ann/week6/w06-thu-4.wav is Ann's); for one directly in `root` (one
    student's folder named alone), `root`'s name."""
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else root.resolve().name


def _ambiguous(root: Path, paths: list[Path]) -> dict[Path, str]:
    """Why each recording under `root` cannot be placed: directly in `root` beside student
    folders (whose is it?), or one of a student's recordings of the same question in different
    subfolders (which one counts?)."""
    found: dict[Path, str] = {}
    places: dict[tuple[str, str], list[Path]] = {}
    nested = any(len(p.relative_to(root).parts) > 1 for p in paths)
    for path in paths:
        if nested and len(path.relative_to(root).parts) == 1:
            found[path] = (f"a recording directly in {root}, beside the students' folders, names no "
                           "student: put it in the student's folder (ann/w06-thu-4.m4a)")
        else:
            places.setdefault((_student_folder(root, path), path.stem.casefold()), []).append(path)
    for (student, _), same in places.items():
        folders = sorted({str(p.parent.relative_to(root)) for p in same})
        if len(folders) > 1:
            why = (f"{student} has recordings of this question in {len(folders)} folders "
                   f"({', '.join(folders)}): keep one")
            found |= dict.fromkeys(same, why)
    return found


TABLES = {".csv": read_csv, ".jsonl": read_jsonl}  # rows whose `audio` paths lead to recordings
READERS = {".md": read_markdown} | dict.fromkeys(AUDIO_SUFFIXES, read_recording)


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


def iter_rows(bank: Bank, targets: list[Path], skip: Path | None = None,
              outside_audio: bool = False) -> Iterator[Row]:
    """Every row of every file, in input order; a file named twice is read once. A recording
    in a folder named as a target belongs to the first folder under it (`_student_folder`).
    Recordings stay inside the submissions folder (`AudioFolder`) unless `outside_audio`."""
    roots: dict[Path, Path] = {}
    for target in targets:
        for path in submission_files(target, skip):
            roots.setdefault(path, target)
    recordings = [p for p, root in roots.items() if root != p and p.suffix.lower() in AUDIO_SUFFIXES]
    refused: dict[Path, str] = {}
    for root in dict.fromkeys(roots[p] for p in recordings):
        refused |= _ambiguous(root, [p for p in recordings if roots[p] == root])
    for path, root in roots.items():
        folder = AudioFolder(path.parent, root if root != path else path.parent, outside_audio)
        why = refused.get(path) or (_linked_outside(folder, path) if path in recordings else None)
        if why:
            yield Rejected(str(path), _student_folder(root, path), path.stem, why)
        elif path in recordings:
            yield from read_recording(bank, path, _student_folder(root, path))
        else:
            yield from _read_one(bank, path, folder)


def _linked_outside(folder: AudioFolder, recording: Path) -> str | None:
    """Why a recording found in a student's folder is refused: a link to a file outside the
    submissions folder (unless allowed); else None."""
    if folder.outside or recording.resolve().is_relative_to(folder.root.resolve()):
        return None
    return (f"a link to a file outside the submissions folder {folder.root}: copy the recording in "
            f"(or pass {OUTSIDE_OPTION})")


def read_submissions(bank: Bank, targets: list[Path]) -> list[Row]:
    return list(iter_rows(bank, targets))


def _rows_of(bank: Bank, path: Path, folder: AudioFolder) -> Iterator[Row] | None:
    """The file's rows, read lazily by the reader its suffix names; None: no reader."""
    suffix = path.suffix.lower()
    if suffix in TABLES:
        return TABLES[suffix](bank, path, folder)
    reader = READERS.get(suffix)
    return reader(bank, path) if reader else None


def _read_one(bank: Bank, path: Path, folder: AudioFolder) -> Iterator[Row]:
    reader = _rows_of(bank, path, folder)
    if reader is None:
        yield Rejected(str(path), "", "", "unsupported file type (use .csv, .jsonl, .md or a recording: "
                                          f"{', '.join(AUDIO_SUFFIXES)})")
        return
    rows = 0
    try:
        for row in reader:
            rows += 1
            yield row
    except (OSError, UnicodeDecodeError) as exc:
        yield Rejected(str(path), "", "", f"unreadable file ({exc})")
        return
    if not rows:
        yield Rejected(str(path), "", "", "no answers in this file (empty, or only a header)")


@dataclass
class Inputs:
    """The submissions to grade, read again on each pass instead of held in memory.

    The first pass keeps only which row counts per (student, question) and the rejected rows;
    then each recording that counts is transcribed (once: see `audio.Transcripts`), and one
    that gives no answer is a submission that says why (and is listed in `unheard`)."""

    bank: Bank
    targets: list[Path]
    skip: Path | None = None  # the batch's --out: its feedback files are not submissions
    terms: Sequence[str] = ()  # the course's speech terms, for recorded answers
    transcripts: Transcripts | None = None  # default: cached under `skip`/transcripts
    outside_audio: bool = False  # recordings may lie outside the submissions folder
    console: Console = field(default_factory=Console)  # where the transcription's progress shows
    rejected: list[Rejected] = field(default_factory=list, init=False)
    cut: list[str] = field(default_factory=list, init=False)  # recordings transcribed in part: why
    count: int = field(default=0, init=False)  # submissions that count
    unheard: list[Submission] = field(default_factory=list, init=False)  # recordings that gave no answer
    _latest: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict, init=False)
    _heard: dict[str, Submission] = field(default_factory=dict, init=False)  # recordings, by source

    def __post_init__(self) -> None:
        earlier: list[tuple[str, tuple[str, str]]] = []  # (source, key) of rows a later one replaces
        recordings: dict[tuple[str, str], Recording] = {}
        for number, row in enumerate(iter_rows(self.bank, self.targets, self.skip, self.outside_audio)):
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
        """Each recording that counts, as a submission: its transcript the answer, or why it
        gave none."""
        if not recordings:
            return
        if self.transcripts is None:
            self.transcripts = Transcripts(self.skip / TRANSCRIPTS if self.skip else None, self.terms)
        with self.console.progress("transcribing", len(recordings), "recordings") as advance:
            for recording in recordings.values():
                row, cut = _heard(self.transcripts, recording)
                self._heard[recording.source] = row
                self.unheard += [row] if row.unheard else []
                self.cut += filter(None, [cut])
                advance()

    def questions(self) -> list[str]:
        """The ids of the questions the submissions that count answer, each once."""
        return list(dict.fromkeys(question for _, question in self._latest))

    def submissions(self) -> Iterator[Submission]:
        """The submissions that count, in input order (a row added to a file since the first
        pass is not among them)."""
        for number, row in enumerate(iter_rows(self.bank, self.targets, self.skip, self.outside_audio)):
            if isinstance(row, Rejected) or self._latest.get((row.student, row.question_id),
                                                             (None,))[0] != number:
                continue
            yield self._heard[row.source] if isinstance(row, Recording) else row


def _heard(transcripts: Transcripts, recording: Recording) -> tuple[Submission, str | None]:
    """The recording's submission, and what was not transcribed of it (None: nothing left out).
    One that gives no answer says why."""
    try:
        answer, heard = transcripts.written(recording.audio)
    except RecordingError as exc:  # the submission names the file already
        reason = exc.message.removeprefix(f"{recording.audio}: ")
        return Submission(recording.source, recording.student, recording.question_id, "",
                          audio=str(recording.audio), unheard=reason), None
    return (Submission(recording.source, recording.student, recording.question_id, answer,
                       audio=str(recording.audio), audio_seconds=round(heard.seconds, 2)),
            heard.cut_note(f"recording {recording.source}", MAX_WORDS))
