"""The examiner loop with a fake judge, and topic resolution."""

import io
import json

import pytest

from tests.learner.test_drill import InterruptingInput
from tutor.core.console import Console
from tutor.core.errors import TutorError
from tutor.core.judges.fake import FakeJudge
from tutor.learner.examiner import Examiner, Point, follow_up_for, resolve_topic
from tutor.learner.history import History
from tutor.learner.session import Session


def test_topics_resolve_by_section_id_and_title_word(bank):
    assert [r.id for r in resolve_topic(bank, "§4.3")[1]] == ["w06-thu-4"]
    assert {r.id for r in resolve_topic(bank, "4")[1]} >= {"w06-thu-1", "w06-thu-4", "w06-wkd-3"}
    assert [r.id for r in resolve_topic(bank, "GQA")[1]] == ["w06-thu-4"]
    assert [r.id for r in resolve_topic(bank, "pagedattention")[1]] == ["w06-thu-5"]
    assert resolve_topic(bank, "w06-fri-3")[0] == "w06-fri-3"
    assert [r.id for r in resolve_topic(bank, "ELI5")[1]] == ["w06-mon-1"]
    with pytest.raises(TutorError, match="no section, question or title matches 'zebra'"):
        resolve_topic(bank, "zebra")


def test_generic_follow_up_never_contains_the_claim(bank):
    for rubric in bank.rubrics:
        for key_point in rubric.key_points:
            asked = follow_up_for(Point(rubric, key_point)).lower()
            assert key_point.claim.lower().rstrip(".") not in asked


def examiner(bank, typed: str, judge: FakeJudge, rounds: int = 3) -> tuple[Examiner, io.StringIO]:
    out = io.StringIO()
    console = Console(stdin=io.StringIO(typed), stdout=out, width=160)
    label, rubrics = resolve_topic(bank, "§4.3")
    return Examiner(Session(console, History(), lambda: judge, "explain"), label, rubrics, rounds), out


def test_follow_up_targets_the_missing_point_and_a_good_reply_covers_it(bank):
    rubric = bank.get("w06-thu-4")
    claims = {p.id: p.claim for p in rubric.key_points}
    judge = FakeJudge().enqueue(0.1, 0.9, 0.9, 0.9, 0.1, 0.1)  # first answer: all but MQA
    judge.enqueue(0.9, 0.9, 0.9, 0.9, 0.1, 0.1)  # the reply covers MQA too
    session, out = examiner(bank, "GQA groups share a KV head; smaller cache.\n.\n"
                                  "MQA has a single KV head for all queries.\n.\n", judge)
    session.run()
    text = out.getvalue()
    assert rubric.follow_up_for("mqa-one-kv-head") in text
    assert "Mastery" in text
    rows = session.session.history.db.execute("SELECT topic, transcript_json FROM sessions").fetchall()
    transcript = json.loads(rows[0][1])
    assert rows[0][0] == "§4.3" and [t["role"] for t in transcript] == [
        "examiner", "learner", "examiner", "learner"]
    assert transcript[3]["text"] == "MQA has a single KV head for all queries."
    assert transcript[2]["text"] == rubric.follow_up_for("mqa-one-kv-head")
    assert claims["mqa-one-kv-head"] not in transcript[2]["text"]
    assert len(session.session.history.attempts()) == 2


def test_i_dont_know_reveals_the_point_and_moves_on(bank):
    judge = FakeJudge(default=0.1)
    session, out = examiner(bank, "Something vague about attention heads.\n.\n/idk\n/quit\n", judge,
                            rounds=2)
    session.run()
    text = out.getvalue()
    first = bank.get("w06-thu-4").key_points[0]
    assert f"Here is that point: {first.claim}" in text
    assert "still missing" in text and "re-read explainer §4.3" in text
    rows = session.session.history.attempts()  # /idk means what it means in drill: a failed recall
    assert [(r["question_id"], r["kind"], r["score"]) for r in rows][-1] == ("w06-thu-4", "idk", 0.0)
    assert session.session.history.card("w06-thu-4") is not None


def test_i_dont_know_on_the_opening_question_fails_every_question_of_the_topic(bank):
    judge = FakeJudge(default=0.9)
    session, out = examiner(bank, "i don't know\n", judge)
    session.run()
    rows = session.session.history.attempts()
    assert [(r["question_id"], r["kind"], r["score"]) for r in rows] == [("w06-thu-4", "idk", 0.0)]
    assert judge.requests == [] and "re-read explainer §4.3" in out.getvalue()


def test_hint_points_to_the_section_and_skip_moves_past_a_follow_up(bank):
    judge = FakeJudge().enqueue(0.1, 0.9, 0.9, 0.9, 0.1, 0.1)  # everything but the MQA point
    session, out = examiner(bank, "GQA groups share a KV head.\n.\n/hint\n/skip\n", judge, rounds=1)
    session.run()
    text = out.getvalue()
    assert "re-read explainer §4.3 — MQA vs GQA" in text
    assert len(session.session.history.attempts()) == 1  # /skip records nothing
    assert "still missing: " + bank.get("w06-thu-4").key_points[0].claim in " ".join(text.split())


def test_interrupt_keeps_the_half_typed_reply(bank):
    judge = FakeJudge().enqueue(0.1, 0.9, 0.9, 0.9, 0.1, 0.1)
    session, out = examiner(bank, "", judge)
    session.console.stdin = InterruptingInput("GQA groups share a KV head.\n.\nMQA has one")
    session.run()
    rows = session.session.history.attempts()
    assert [(r["status"], r["answer"]) for r in rows] == [
        ("graded", "GQA groups share a KV head."), ("ungraded", "MQA has one")]
    assert "The unfinished answer is saved" in out.getvalue()
    assert "Summary" in out.getvalue()


def test_an_unsure_point_is_asked_about_before_mastery_is_declared(bank):
    rubric = bank.get("w06-thu-4")
    typed = "GQA and MQA share key/value heads somehow.\n.\nOne shared head.\n.\n"
    sure, sure_out = examiner(bank, typed, FakeJudge(default=0.99), rounds=1)
    sure.run()
    assert "Mastery" in sure_out.getvalue()  # every point a confident hit: nothing to ask
    unsure, out = examiner(bank, typed, FakeJudge(default=0.66), rounds=1)  # hits, each barely
    unsure.run()
    asked = [t["text"] for t in unsure.transcript if t["role"] == "examiner"]
    assert len(asked) == 2 and asked[1] in {follow_up_for(Point(rubric, p)) for p in rubric.key_points}
    assert "Mastery" not in out.getvalue()
