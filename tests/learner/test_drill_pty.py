"""`tutor drill` in a real pseudo-terminal with the real default model."""

import os
import signal
import sqlite3
import sys

import pexpect
import pytest

pytestmark = pytest.mark.model

ANSWER = ("KV cache bytes = 2 x layers x kv_heads x head_dim x seq_len x batch x bytes per element. "
          "The 2 is for keys and values.")


def spawn(tutor_home, *args: str) -> pexpect.spawn:
    env = {**os.environ, "TUTOR_HOME": str(tutor_home), "TERM": "dumb", "COLUMNS": "200"}
    return pexpect.spawn(sys.executable, ["-m", "tutor", "drill", *args], env=env,
                         encoding="utf-8", timeout=600, dimensions=(50, 200))


def rows(tutor_home, query: str) -> list[tuple]:
    with sqlite3.connect(tutor_home / "data" / "history.sqlite3") as db:
        return db.execute(query).fetchall()


def answer(child: pexpect.spawn, text: str) -> None:
    child.sendline(text)
    child.sendline(".")


def graded(child: pexpect.spawn, question: str) -> float:
    """The score shown for `question`; an unsure grade first asks one clarifying question,
    which an empty reply declines (the grade then stands as it was)."""
    pattern = rf"{question} · score (\d\.\d\d)"
    if child.expect(["Before I grade this:", pattern]) == 0:
        child.sendline(".")
        child.expect(pattern)
    return float(child.match.group(1))


def test_drill_session_answer_skip_quit(tutor_home):
    child = spawn(tutor_home, "--day", "thursday", "--limit", "3")
    child.expect("1/3 · w06-thu-1")
    child.expect("loading in the background")  # the question shows before the model is ready
    answer(child, ANSWER)
    score = graded(child, "w06-thu-1")
    child.expect("2/3 · w06-thu-2")
    child.sendline("/skip")
    child.expect("3/3 · w06-thu-3")
    child.sendline("/quit")
    child.expect("Session summary")
    child.expect("skipped")
    child.expect("Next review due")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    attempts = rows(tutor_home, "SELECT question_id, kind, answer, score, model FROM attempts")
    assert attempts == [("w06-thu-1", "drill", ANSWER, score, "qwen2.5-coder-1.5b-instruct-q4_k_m")]
    assert [r[0] for r in rows(tutor_home, "SELECT question_id FROM cards")] == ["w06-thu-1"]


def test_killing_the_process_keeps_completed_attempts(tutor_home):
    child = spawn(tutor_home, "--day", "thursday", "--limit", "3")
    child.expect("1/3 · w06-thu-1")
    answer(child, ANSWER)
    graded(child, "w06-thu-1")
    child.expect("2/3 · w06-thu-2")
    child.sendline("About 2.7 GB per request, because")  # half typed, then the process dies
    os.kill(child.pid, signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()
    assert rows(tutor_home, "SELECT question_id, kind FROM attempts") == [("w06-thu-1", "drill")]
    assert len(rows(tutor_home, "SELECT * FROM cards")) == 1
