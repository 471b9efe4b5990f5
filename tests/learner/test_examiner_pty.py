"""`tutor explain` in a real pseudo-terminal with the real default model."""

import json
import os
import re
import sqlite3
import sys

import pexpect
import pytest

pytestmark = pytest.mark.model

GQA_ONLY = ("In GQA the query heads are split into groups, and each group of query heads shares one "
            "key/value head. Fewer key/value heads means a proportionally smaller KV cache.")
MQA_REPLY = "MQA keeps only one key/value head, and all the query heads share that single head."


def loose(text: str) -> str:
    """A pattern for `text` that tolerates line wrapping between words."""
    return r"\s+".join(re.escape(word) for word in text.split())


def test_examiner_probes_the_missing_mqa_point(tutor_home, bank):
    env = {**os.environ, "TUTOR_HOME": str(tutor_home), "TERM": "dumb", "COLUMNS": "200"}
    child = pexpect.spawn(sys.executable, ["-m", "tutor", "explain", "§4.3", "--rounds", "2"],
                          env=env, encoding="utf-8", timeout=600, dimensions=(50, 200))
    follow_up = bank.get("w06-thu-4").follow_up_for("mqa-one-kv-head")
    child.expect("Explain §4.3")
    child.sendline(GQA_ONLY)
    child.sendline(".")
    child.expect(loose(follow_up))  # the terminal may wrap long lines
    child.sendline(MQA_REPLY)
    child.sendline(".")
    child.expect(loose("✓ In MQA, all query heads share a single key/value head."))
    child.sendline("/quit")
    child.expect("Summary")
    child.expect(pexpect.EOF)
    with sqlite3.connect(tutor_home / "data" / "history.sqlite3") as db:
        topic, transcript = db.execute("SELECT topic, transcript_json FROM sessions").fetchone()
        kinds = db.execute("SELECT DISTINCT kind FROM attempts").fetchall()
    turns = json.loads(transcript)
    assert topic == "§4.3" and kinds == [("explain",)]
    assert [t["text"] for t in turns if t["role"] == "learner"][:2] == [GQA_ONLY, MQA_REPLY]
    assert follow_up in [t["text"] for t in turns if t["role"] == "examiner"]
