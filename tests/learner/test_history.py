import sqlite3

from tutor.core.result import Band, Grade
from tutor.learner.history import SCHEMA_VERSION, History, db_path


def a_grade(question_id="w06-thu-4", score=0.5) -> Grade:
    return Grade(question_id=question_id, score=score, band=Band.of(score), model="fake")


def test_history_lives_in_the_user_data_dir(tutor_home):
    History()
    assert db_path().parent == tutor_home / "data" and db_path().exists()


def test_schema_is_versioned():
    History()
    with sqlite3.connect(db_path()) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_attempts_are_visible_to_another_connection_at_once():
    history = History()
    session = history.start_session("drill")
    history.record(session, "drill", "my answer", a_grade())
    with sqlite3.connect(db_path()) as other:  # as if this process had been killed now
        rows = other.execute("SELECT question_id, answer, score, band FROM attempts").fetchall()
    assert rows == [("w06-thu-4", "my answer", 0.5, "partial")]


def test_reopening_keeps_data_and_does_not_remigrate():
    History().record(None, "ask", "x", a_grade())
    assert len(History().attempts()) == 1


def test_ungraded_attempt_keeps_its_text():
    history = History()
    history.record(None, "drill", "half an answer", Grade.ungraded("w06-thu-4", "interrupted"))
    row = history.attempts()[0]
    assert row["status"] == "ungraded" and row["answer"] == "half an answer" and row["score"] is None
