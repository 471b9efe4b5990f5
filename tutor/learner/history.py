"""The learner's history: every attempt and each card's scheduler state, in SQLite.

Each attempt is committed the moment it is graded, so a killed session loses
nothing already answered. The schema is versioned with `PRAGMA user_version`;
`MIGRATIONS[n]` takes a database from version n to n + 1. Several sessions may open a
fresh history at once: migrations run in one write transaction that re-reads the version,
so exactly one of them creates the tables and the others wait (busy timeout), then see them.
"""

import json
import random
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor.core import paths
from tutor.core.errors import TutorError
from tutor.core.result import Grade

MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY, kind TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT)""",
        """CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            session_id INTEGER REFERENCES sessions(id),
            question_id TEXT NOT NULL,
            kind TEXT NOT NULL,              -- drill, ask, explain, idk
            answer TEXT NOT NULL,
            score REAL, band TEXT, status TEXT NOT NULL,
            model TEXT NOT NULL, grade_json TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        "CREATE INDEX attempts_question ON attempts(question_id, created_at)",
        """CREATE TABLE cards (
            question_id TEXT PRIMARY KEY, card_json TEXT NOT NULL, due TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
    ),
    (
        "ALTER TABLE sessions ADD COLUMN topic TEXT",
        "ALTER TABLE sessions ADD COLUMN transcript_json TEXT",
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)


def now() -> datetime:
    return datetime.now(UTC)


BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another session's write to finish
CORRUPT = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}


def db_path(course_key: str | None = None) -> Path:
    """Attempts are kept per course: the bundled course's history where it always was, any
    other course's in a folder of its own."""
    if course_key is None:
        return paths.data_dir() / "history.sqlite3"
    return paths.ensure_dir(paths.data_dir() / "courses" / course_key, "the course history folder") \
        / "history.sqlite3"


def _connect(path: Path) -> sqlite3.Connection:
    """The database in autocommit mode (every write lands at once); a path SQLite cannot open
    (a folder, no permission) is one line naming it."""
    if path.is_dir():
        raise TutorError(f"{path}: the history database is a folder; move it aside and tutor "
                         "starts a new one")
    try:
        return sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    except sqlite3.OperationalError as exc:
        raise TutorError(f"{path}: cannot open the history database ({exc})") from None


class History:
    def __init__(self, path: Path | None = None):
        self.path = path or db_path()
        self.db = _connect(self.path)
        self.db.row_factory = sqlite3.Row
        damage = self._set_up()
        if damage:
            self.db.close()
            raise TutorError(f"{self.path}: the history database is damaged ({damage}); move it aside "
                             "(e.g. rename it to history.sqlite3.damaged) and tutor starts a new one")

    def _set_up(self) -> str | None:
        """Check the file, then bring its schema up to date; returns what is wrong with the file
        when it is not a sound database. `quick_check` reads every page once, so damage shows
        here, with the file's name, not as a traceback mid-session."""
        try:
            problems = [row[0] for row in self.db.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                return "; ".join(problems[:2])
            self._use_wal()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            if exc.sqlite_errorname not in CORRUPT:
                raise
            return str(exc)
        return None

    def _use_wal(self) -> None:
        """Write-ahead logging, so one session reads while another writes. Switching a fresh file
        needs an exclusive lock that SQLite will not wait for (it answers "locked" at once to avoid
        a deadlock), so sessions starting together retry until the first has switched it."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while self.db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorname != "SQLITE_BUSY" or time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0.005, 0.05))

    def _migrate(self) -> None:
        """Bring the schema to `SCHEMA_VERSION` in one transaction (see the module docstring)."""
        if self.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        self.db.execute("BEGIN IMMEDIATE")  # take the write lock before reading the version
        try:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for statement in (sql for step in MIGRATIONS[version:] for sql in step):
                self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def start_session(self, kind: str) -> int:
        cursor = self.db.execute("INSERT INTO sessions (kind, started_at) VALUES (?, ?)",
                                 (kind, now().isoformat()))
        return _row_id(cursor)

    def end_session(self, session_id: int) -> None:
        self.db.execute("UPDATE sessions SET ended_at = ? WHERE id = ?", (now().isoformat(), session_id))

    def save_transcript(self, session_id: int, topic: str, transcript: list[dict[str, str]]) -> None:
        """Written after every turn, so an interrupted conversation is kept too."""
        self.db.execute("UPDATE sessions SET topic = ?, transcript_json = ? WHERE id = ?",
                        (topic, json.dumps(transcript, ensure_ascii=False), session_id))

    def save_exam(self, session_id: int, record_json: str) -> None:
        """An exam's record (`tutor.learner.exam.ExamRecord`), rewritten after every turn."""
        self.db.execute("UPDATE sessions SET topic = 'exam', transcript_json = ? WHERE id = ?",
                        (record_json, session_id))

    def exams(self) -> list[sqlite3.Row]:
        """Every exam kept, oldest first: (id, started_at, transcript_json)."""
        return self.db.execute("SELECT id, started_at, transcript_json FROM sessions WHERE kind = 'exam'"
                               " AND transcript_json IS NOT NULL ORDER BY id").fetchall()

    def record(self, session_id: int | None, kind: str, answer: str, grade: Grade) -> int:
        cursor = self.db.execute(
            "INSERT INTO attempts (session_id, question_id, kind, answer, score, band, status, model,"
            " grade_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, grade.question_id, kind, answer, grade.score,
             grade.band.value if grade.band else None, grade.status, grade.model,
             grade.model_dump_json(), now().isoformat()))
        return _row_id(cursor)

    def attempts(self, question_id: str | None = None) -> list[sqlite3.Row]:
        query = "SELECT * FROM attempts"
        args: tuple[str, ...] = ()
        if question_id:
            query, args = query + " WHERE question_id = ?", (question_id,)
        return self.db.execute(query + " ORDER BY id", args).fetchall()

    def card(self, question_id: str) -> str | None:
        row = self.db.execute("SELECT card_json FROM cards WHERE question_id = ?", (question_id,)).fetchone()
        return row[0] if row else None

    def cards(self) -> dict[str, Any]:  # question id → the scheduler's card, as stored
        rows = self.db.execute("SELECT question_id, card_json FROM cards").fetchall()
        return {r[0]: json.loads(r[1]) for r in rows}

    def save_card(self, question_id: str, card_json: str, due: datetime) -> None:
        self.db.execute(
            "INSERT INTO cards (question_id, card_json, due, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(question_id) DO UPDATE SET card_json = excluded.card_json,"
            " due = excluded.due, updated_at = excluded.updated_at",
            (question_id, card_json, due.isoformat(), now().isoformat()))

    def close(self) -> None:
        self.db.close()


def _row_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just made (sqlite always gives one)."""
    assert cursor.lastrowid is not None
    return cursor.lastrowid
