"""`tutor exam` in a real pseudo-terminal with the real default model: typed answers, two
questions, one follow-up, then the report in the terminal and as an HTML file."""

import os
import re
import sqlite3
import sys

import pexpect
import pytest

from tests.html_page import Page

pytestmark = pytest.mark.model

GQA_ONLY = ("In GQA the query heads are split into groups, and each group of query heads shares one "
            "key/value head. Fewer key/value heads means a proportionally smaller KV cache.")
MQA_REPLY = "MQA keeps only one key/value head, and all the query heads share that single head."
PAGED = ("PagedAttention borrows virtual memory paging from operating systems. The KV cache is stored "
         "in fixed-size blocks of tokens, and a block table maps each sequence's logical blocks to "
         "physical blocks, so a sequence's blocks need not be contiguous. That cuts fragmentation and "
         "the waste of reserving memory for the maximum length, and sequences can share blocks such as "
         "a common prompt prefix with copy-on-write.")


def loose(text: str) -> str:
    """A pattern for `text` that tolerates line wrapping between words."""
    return r"\s+".join(re.escape(word) for word in text.split())


def answer(child: pexpect.spawn, text: str) -> None:
    child.sendline(text)
    child.sendline(".")


def test_a_typed_exam_with_one_follow_up_through_the_real_model(tutor_home, bank, tmp_path):
    env = {**os.environ, "TUTOR_HOME": str(tutor_home), "TERM": "dumb", "COLUMNS": "200"}
    report = tmp_path / "exam.html"
    command = ["-m", "tutor", "exam", "--question", "w06-thu-4", "--question", "w06-thu-5",
               "--minutes", "20", "--follow-ups", "1", "--html", str(report)]
    child = pexpect.spawn(sys.executable, command, env=env, encoding="utf-8", timeout=600,
                          dimensions=(50, 200))
    follow_up = bank.get("w06-thu-4").follow_up_for("mqa-one-kv-head")
    child.expect("1/2 · w06-thu-4")
    answer(child, GQA_ONLY)
    child.expect(loose(follow_up))  # the missing essential point is asked about
    answer(child, MQA_REPLY)
    child.expect("2/2 · w06-thu-5")  # --follow-ups 1: the reply ends the question
    answer(child, PAGED)
    if child.expect(["Questions", "Examiner:"]) == 1:  # the report's table comes first
        child.sendline("/skip")  # a follow-up on the second answer is the model's call
    child.expect("Mark:")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    with sqlite3.connect(tutor_home / "data" / "history.sqlite3") as db:
        rows = db.execute("SELECT question_id, kind, answer, status FROM attempts ORDER BY id").fetchall()
        cards = {r[0] for r in db.execute("SELECT question_id FROM cards")}
    assert [(q, k, s) for q, k, _, s in rows] == [("w06-thu-4", "exam", "graded"),
                                                   ("w06-thu-5", "exam", "graded")]
    assert rows[0][2] == f"{GQA_ONLY}\n{MQA_REPLY}"  # the reply graded with the answer, one attempt
    assert cards == {"w06-thu-4", "w06-thu-5"}
    page = Page(report.read_text(encoding="utf-8"))
    assert GQA_ONLY in page.text and MQA_REPLY in page.text and "follow-up: essential" in page.text
    assert "Mark:" in page.text and page.scripts == []
