"""The drill loop driven through the console object, with a fake judge."""

import io

import pytest

from tutor.core.answer import judge_form
from tutor.core.console import Console, SafeRichConsole
from tutor.core.decide import PlainHead, Thresholds
from tutor.core.errors import ExitCode, TutorError
from tutor.core.judges.fake import FakeJudge
from tutor.learner.drill import Drill
from tutor.learner.history import History
from tutor.learner.session import Command, Reply, Session


def drill_with(typed: str, judge=None) -> tuple[Drill, str]:
    out = io.StringIO()
    console = Console(stdin=io.StringIO(typed), stdout=out, width=120)
    session = Drill(Session(console, History(), lambda: judge or FakeJudge(default=0.9), "drill"))
    return session, out


def test_answers_skip_idk_and_quit(bank):
    queue = [bank.get(i) for i in ("w06-thu-4", "w06-thu-5", "w06-thu-6", "w06-fri-1", "w06-fri-2")]
    typed = ("MQA shares one KV head; GQA one per group.\n.\n/skip\n/hint\n/idk\n"
             "Gradients and optimizer states.\n.\n/quit\n")
    session, out = drill_with(typed)
    session.run(queue)
    text = out.getvalue()
    assert "re-read explainer §4.6 — Prefill vs decode" in text  # the hint
    assert "Reference answer:" in text and "Session summary" in text and "skipped" in text
    rows = session.session.history.attempts()
    assert [(r["question_id"], r["kind"]) for r in rows] == [
        ("w06-thu-4", "drill"), ("w06-thu-6", "idk"), ("w06-fri-1", "drill")]
    assert rows[1]["score"] == 0.0
    assert "w06-fri-2" not in text.split("Session summary")[1]  # quit at the last question
    assert set(session.session.history.cards()) == {"w06-thu-4", "w06-thu-6", "w06-fri-1"}


def test_end_of_input_ends_the_session_cleanly(bank):
    session, out = drill_with("An answer about PagedAttention and paging.\n")
    session.run([bank.get("w06-thu-5"), bank.get("w06-thu-6")])
    assert [r["question_id"] for r in session.session.history.attempts()] == ["w06-thu-5"]


class InterruptingInput(io.StringIO):
    """Ctrl-C when the typed text runs out."""

    def readline(self, *args):
        line = super().readline(*args)
        if line == "":
            raise KeyboardInterrupt
        return line


def test_interrupt_keeps_answers_and_the_partial_text(bank):
    out = io.StringIO()
    console = Console(stdin=InterruptingInput("First answer here ok.\n.\nhalf typed"), stdout=out)
    session = Drill(Session(console, History(), lambda: FakeJudge(default=0.9), "drill"))
    session.run([bank.get("w06-thu-5"), bank.get("w06-thu-6")])
    rows = session.session.history.attempts()
    assert [(r["question_id"], r["status"], r["answer"]) for r in rows] == [
        ("w06-thu-5", "graded", "First answer here ok."),
        ("w06-thu-6", "ungraded", "half typed")]
    assert "The unfinished answer is saved" in out.getvalue()


def test_an_unsure_grade_asks_one_clarifying_question_then_grades_both_texts(bank):
    rubric = bank.get("w06-thu-4")
    unsure = FakeJudge(default=0.66)  # every point just over its threshold: the band is a guess
    typed = "Something about heads being shared.\n.\nAll query heads share one KV head in MQA.\n.\n"
    session, out = drill_with(typed, unsure)
    session.run([rubric])
    text = out.getvalue()
    assert "Before I grade this:" in text
    asked = text.split("Before I grade this:")[1].splitlines()[0]
    assert all(p.claim.lower().rstrip(".") not in asked.lower() for p in rubric.key_points)
    rows = session.session.history.attempts()
    assert len(rows) == 1  # one attempt, one rescheduling: the reply completes the answer
    assert rows[0]["answer"] == ("Something about heads being shared.\n"
                                 "All query heads share one KV head in MQA.")
    assert len(unsure.requests) == 2 and "all query heads" in unsure.requests[1].answer  # judge form


def test_a_sure_grade_asks_nothing(bank):
    session, out = drill_with("MQA shares one KV head; GQA one per group.\n.\n", FakeJudge(default=0.99))
    session.run([bank.get("w06-thu-4")])
    assert "Before I grade this:" not in out.getvalue()


def test_interrupt_during_a_clarifying_reply_keeps_the_answer_and_the_reply(bank):
    out = io.StringIO()
    console = Console(stdin=InterruptingInput("Heads are shared.\n.\nAll query heads sh"), stdout=out)
    drill = Drill(Session(console, History(), lambda: FakeJudge(default=0.66), "drill"))
    drill.run([bank.get("w06-thu-4")])
    rows = drill.session.history.attempts()
    assert [(r["status"], r["answer"]) for r in rows] == [
        ("ungraded", "Heads are shared.\nAll query heads sh")]


def test_a_judge_that_fails_to_load_loses_no_typed_answer(bank):
    def broken():
        raise TutorError("the default model is missing", ExitCode.MODEL)

    session, out = drill_with("My answer about MQA.\n.\n")
    session.session.load_judge = broken
    with pytest.raises(TutorError, match="model is missing"):
        session.run([bank.get("w06-thu-4")])
    rows = session.session.history.attempts()
    assert [(r["status"], r["answer"]) for r in rows] == [("ungraded", "My answer about MQA.")]
    assert "saved in the history, ungraded" in out.getvalue()


@pytest.mark.parametrize(("typed", "command"), [
    ("/IDK", Command.IDK), (" dunno ", Command.IDK), ("I don't know", Command.IDK), ("/hint", Command.HINT),
    ("/skip", Command.SKIP), ("/quit", Command.QUIT), (None, Command.QUIT), ("idk what MQA is", None),
    ("/skipped", None)])
def test_command_words_are_the_same_everywhere(typed, command):
    assert Reply.parse(typed).command is command


def test_the_judge_starts_on_the_question_and_each_finished_line_before_enter(bank):
    judge = FakeJudge(default=0.9)
    console = Console(stdin=io.StringIO("MQA shares one KV head.\nGQA shares one per group.\n.\n"),
                      stdout=io.StringIO())
    session = Session(console, History(), lambda: judge, "drill")
    with session:
        session.put(bank.get("w06-thu-4"))
        session.read()
        session._pool.submit(lambda: None).result()  # the background work so far is done
    assert [r.answer for r in judge.prefilled] == [  # what the judge reads: the judge form
        "", "mqa shares one kv head", "mqa shares one kv head, gqa shares one per group"]
    assert {r.question for r in judge.prefilled} == {bank.get("w06-thu-4").prompt}


def test_in_a_terminal_each_verdict_shows_before_the_feedback(bank):
    out = io.StringIO()
    console = Console(stdin=io.StringIO("MQA shares one KV head; GQA one per group.\n.\n"), stdout=out)
    console.out = SafeRichConsole(file=out, width=120, force_terminal=True, highlight=False)
    Drill(Session(console, History(), lambda: FakeJudge(default=0.9), "drill")).run([bank.get("w06-thu-4")])
    text = out.getvalue()
    first_claim = bank.get("w06-thu-4").key_points[0].claim
    assert text.index(first_claim) < text.index("╭")  # streamed, then the feedback panel


def test_work_ahead_on_a_clarifying_reply_covers_the_answer_and_the_reply(bank):
    judge = FakeJudge(default=0.66)  # unsure: the drill asks one question first
    typed = "Heads are shared.\n.\nOne KV head in MQA.\n"
    console = Console(stdin=io.StringIO(typed), stdout=io.StringIO())
    session = Session(console, History(), lambda: judge, "drill")
    with session:
        session.put(bank.get("w06-thu-4"))
        session.read()  # the answer, not recorded until the clarifying reply is in
        session.read()  # the reply, typed line by line
        session._pool.submit(lambda: None).result()
    assert judge.prefilled[-1].answer == judge_form("Heads are shared.\nOne KV head in MQA.")


def test_the_session_grades_with_the_head_chosen_once_for_the_loaded_judge(bank):
    judge, chosen = FakeJudge(default=0.7), []

    def strict(loaded):
        chosen.append(loaded)
        return PlainHead(Thresholds(key_point=0.95))  # 0.7: no key point (the default: every one)

    scores = []
    for choose in (strict, None):
        console = Console(stdin=io.StringIO("MQA shares one KV head; GQA one per group.\n.\n"),
                          stdout=io.StringIO(), width=120)
        heads = {"choose_head": choose} if choose else {}
        drill = Drill(Session(console, History(), lambda: judge, "drill", **heads))
        drill.run([bank.get("w06-thu-4")])
        scores.append(drill.session.history.attempts()[-1]["score"])  # one history per test
    assert chosen == [judge]
    assert scores[0] == 0.0 < scores[1]
