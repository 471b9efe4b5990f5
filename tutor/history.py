"""The learner's history: every attempt and each card's scheduler state, in SQLite.

Each attempt is committed the moment it is graded, so a killed session loses
nothing already answered. The schema is versioned with `PRAGMA user_version`;
`MIGRATIONS[n]` takes a database from version n to n + 1.
"""

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from tutor import paths
from tutor.grade import Grade

MIGRATIONS = [
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT);
    CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        session_id INTEGER REFERENCES sessions(id),
        question_id TEXT NOT NULL,
        kind TEXT NOT NULL,              -- drill, ask, explain, idk
        answer TEXT NOT NULL,
        score REAL, band TEXT, status TEXT NOT NULL,
        model TEXT NOT NULL, grade_json TEXT NOT NULL,
        created_at TEXT NOT NULL);
    CREATE INDEX attempts_question ON attempts(question_id, created_at);
    CREATE TABLE cards (
        question_id TEXT PRIMARY KEY, card_json TEXT NOT NULL, due TEXT NOT NULL,
        updated_at TEXT NOT NULL);
    """,
    """
    ALTER TABLE sessions ADD COLUMN topic TEXT;
    ALTER TABLE sessions ADD COLUMN transcript_json TEXT;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def now() -> datetime:
    return datetime.now(UTC)


def db_path() -> Path:
    return paths.data_dir() / "history.sqlite3"


class History:
    def __init__(self, path: Path | None = None):
        self.path = path or db_path()
        self.db = sqlite3.connect(self.path, isolation_level=None)  # autocommit: every write lands
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self._migrate()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for step in range(version, SCHEMA_VERSION):
            self.db.executescript(f"BEGIN; {MIGRATIONS[step]} PRAGMA user_version = {step + 1}; COMMIT;")

    def start_session(self, kind: str) -> int:
        cursor = self.db.execute("INSERT INTO sessions (kind, started_at) VALUES (?, ?)",
                                 (kind, now().isoformat()))
        return cursor.lastrowid

    def end_session(self, session_id: int) -> None:
        self.db.execute("UPDATE sessions SET ended_at = ? WHERE id = ?", (now().isoformat(), session_id))

    def save_transcript(self, session_id: int, topic: str, transcript: list[dict]) -> None:
        """Written after every turn, so an interrupted conversation is kept too."""
        self.db.execute("UPDATE sessions SET topic = ?, transcript_json = ? WHERE id = ?",
                        (topic, json.dumps(transcript, ensure_ascii=False), session_id))

    def record(self, session_id: int | None, kind: str, answer: str, grade: Grade) -> int:
        cursor = self.db.execute(
            "INSERT INTO attempts (session_id, question_id, kind, answer, score, band, status, model,"
            " grade_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, grade.question_id, kind, answer, grade.score,
             grade.band.value if grade.band else None, grade.status, grade.model,
             grade.model_dump_json(), now().isoformat()))
        return cursor.lastrowid

    def attempts(self, question_id: str | None = None) -> list[sqlite3.Row]:
        query = "SELECT * FROM attempts"
        args: tuple = ()
        if question_id:
            query, args = query + " WHERE question_id = ?", (question_id,)
        return self.db.execute(query + " ORDER BY id", args).fetchall()

    def card(self, question_id: str) -> str | None:
        row = self.db.execute("SELECT card_json FROM cards WHERE question_id = ?", (question_id,)).fetchone()
        return row[0] if row else None

    def cards(self) -> dict[str, dict]:
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
