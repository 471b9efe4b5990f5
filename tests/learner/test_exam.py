"""`tutor exam` with the fake judge and a scripted console: which follow-up, the clock,
Ctrl-C, the schedule, the report and its escaping, the mark's uncertainty, `--report`."""

import io
import random
from datetime import timedelta

from typer.testing import CliRunner

from tests.html_page import Page
from tests.learner.test_drill import InterruptingInput
from tutor.core.answer import judge_form
from tutor.core.console import Console
from tutor.core.decide import TERM_LIST_CAP, PlainHead
from tutor.core.grader import grade
from tutor.core.judges.fake import FakeJudge
from tutor.core.result import Band
from tutor.edge.cli import app
from tutor.learner.drill import Drill
from tutor.learner.exam import Exam, ExamRecord, choose_follow_up, pick_questions
from tutor.learner.exam_report import build, html, overall_mark, terminal
from tutor.learner.history import History, now
from tutor.learner.session import Session

GQA = "w06-thu-4"
MQA, GROUPS, SHRINKS, TRADEOFF = (
    "In MQA, all query heads share a single key/value head.",
    "In GQA, each group of query heads shares one key/value head.",
    "Fewer key/value heads means a smaller KV cache.",
    "GQA saves most of MQA's memory with quality closer to multi-head attention.")
SHARES_QUERY, SAVES_WEIGHTS = ("GQA or MQA share the query heads.",
                               "The main saving of MQA/GQA is in the model's weight memory.")


def judge_of(**overrides: float) -> FakeJudge:
    """Sure of everything (points stated, no misconception) unless told otherwise."""
    sure = {MQA: 0.99, GROUPS: 0.99, SHRINKS: 0.99, TRADEOFF: 0.99, SHARES_QUERY: 0.01, SAVES_WEIGHTS: 0.01}
    names = {"mqa": MQA, "groups": GROUPS, "shrinks": SHRINKS, "tradeoff": TRADEOFF,
             "shares_query": SHARES_QUERY, "saves_weights": SAVES_WEIGHTS}
    return FakeJudge({**sure, **{names[k]: v for k, v in overrides.items()}}, default=0.01)


def graded(bank, judge, text="GQA groups query heads."):
    return grade(bank.get(GQA), text, judge, PlainHead())


def test_follow_up_priority_misconception_then_essential_then_unsure_then_none(bank):
    rubric = bank.get(GQA)
    both = graded(bank, judge_of(shares_query=0.99, groups=0.01))
    assert choose_follow_up(rubric, both, "x", set()).reason == "misconception"
    assert "Is that so?" in choose_follow_up(rubric, both, "x", set()).text
    essential = choose_follow_up(rubric, both, "x", {"shares-query-heads"})
    assert (essential.reason, essential.point_id) == ("essential", "gqa-groups")
    assert essential.text == rubric.follow_up_for("gqa-groups")
    unsure = graded(bank, judge_of(mqa=0.66, groups=0.66, shrinks=0.66, tradeoff=0.66))
    assert unsure.review
    assert choose_follow_up(rubric, unsure, "x", set()).reason == "unsure"
    assert choose_follow_up(rubric, graded(bank, judge_of()), "x", set()) is None
    optional_only = graded(bank, judge_of(tradeoff=0.01))  # a missing point that is not essential
    assert choose_follow_up(rubric, optional_only, "x", set()) is None


class Ticking:
    """A clock that moves `step` seconds each time it is read."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def exam_with(bank, typed, judge, ids=(GQA,), minutes=10.0, clock=None, stdin=None, history=None):
    out = io.StringIO()
    console = Console(stdin=stdin or io.StringIO(typed), stdout=out, width=120)
    session = Session(console, history or History(), lambda: judge, "exam")
    exam = Exam(session, [bank.get(i) for i in ids], minutes, clock=clock or Ticking(1.0))
    return exam, exam.run(), out


def test_two_follow_ups_at_most_each_reply_graded_with_the_answer_as_one_attempt(bank):
    typed = "Heads are shared somehow.\n.\nQuery heads form groups.\n.\nThe cache gets smaller.\n.\n"
    exam, record, out = exam_with(bank, typed, judge_of(groups=0.01, shrinks=0.01, mqa=0.01))
    item = record.items[0]
    assert [t.kind for t in item.turns] == ["question", "answer", "follow_up", "reply", "follow_up", "reply"]
    assert [t.reason for t in item.turns if t.kind == "follow_up"] == ["essential", "essential"]
    rows = exam.session.history.attempts()
    assert len(rows) == 1 and rows[0]["kind"] == "exam"
    assert rows[0]["answer"] == "Heads are shared somehow.\nQuery heads form groups.\nThe cache gets smaller."
    graded_texts = [r.answer for r in exam.session.loaded().judge.requests]
    assert graded_texts[-1] == judge_form(rows[0]["answer"])  # the last grade saw every reply
    assert out.getvalue().count("Examiner:") == 2


def test_no_follow_up_when_the_answer_holds_up(bank):
    exam, record, out = exam_with(bank, "A full answer.\n.\n", judge_of())
    assert [t.kind for t in record.items[0].turns] == ["question", "answer"]
    assert record.finished and record.items[0].outcome == "graded"


def test_the_clock_warns_softly_and_the_exam_ends_when_time_is_up(bank):
    typed = "".join(f"line {n}\n" for n in range(12)) + ".\n/skip\n"
    exam, record, out = exam_with(bank, typed, judge_of(), ids=(GQA, "w06-thu-5"), minutes=1.0,
                                  clock=Ticking(3.0))
    text = out.getvalue()
    assert "1:00 in 0:30" not in text and "⏱ 0:30 for this answer" in text
    assert "left for this answer" in text and "Time is up for this answer" in text
    assert record.items[0].outcome == "graded"  # never cut off
    assert record.items[0].seconds > record.items[0].allowed_s
    assert record.time_up and [i.question_id for i in record.items] == [GQA]
    assert "Time is up: the exam ends here." in text


def test_ctrl_c_keeps_what_was_answered_and_the_half_typed_text(bank):
    stdin = InterruptingInput("A full answer.\n.\nhalf typed")
    exam, record, out = exam_with(bank, "", judge_of(), ids=(GQA, "w06-thu-5"), stdin=stdin)
    rows = exam.session.history.attempts()
    assert [(r["question_id"], r["status"], r["answer"]) for r in rows] == [
        (GQA, "graded", "A full answer."), ("w06-thu-5", "ungraded", "half typed")]
    assert "The unfinished answer is saved" in out.getvalue()
    kept = ExamRecord.model_validate_json(exam.session.history.exams()[0]["transcript_json"])
    assert kept.interrupted and [i.outcome for i in kept.items] == ["graded", "unfinished"]
    assert overall_mark(build(kept, bank, [kept]).items).counted == 1  # the unfinished one is left out


def test_exam_answers_reschedule_cards_exactly_as_a_drill_does(bank, tmp_path):
    exam, _, _ = exam_with(bank, "Something.\n.\n/idk\n", judge_of(groups=0.01),
                           history=History(tmp_path / "a.db"))
    drilled = Drill(Session(Console(stdin=io.StringIO("Something.\n.\n"), stdout=io.StringIO()),
                            History(tmp_path / "b.db"), lambda: judge_of(groups=0.01), "drill"))
    drilled.run([bank.get(GQA)])
    exam_card, drill_card = exam.session.history.cards()[GQA], drilled.session.history.cards()[GQA]
    assert {k: exam_card[k] for k in ("state", "stability", "difficulty", "step")} == \
        {k: drill_card[k] for k in ("state", "stability", "difficulty", "step")}


def test_a_missed_point_brings_the_question_back_sooner(bank, tmp_path):
    good, _, _ = exam_with(bank, "All of it.\n.\n", judge_of(), history=History(tmp_path / "a.db"))
    weak, _, _ = exam_with(bank, "Not much.\n.\n/idk\n", judge_of(groups=0.01, shrinks=0.01),
                           history=History(tmp_path / "b.db"))
    assert weak.session.history.cards()[GQA]["due"] < good.session.history.cards()[GQA]["due"]


HOSTILE = "<script>alert('x')</script> [bold red]MARKUP[/bold red] & <b>bold</b>"


def test_the_report_quotes_the_learner_and_escapes_every_learner_string(bank):
    typed = f"{HOSTILE}\n.\n{HOSTILE} again\n.\n/idk\n"
    exam, record, out = exam_with(bank, typed, judge_of(shares_query=0.99))
    report = build(record, bank, [record])
    page = Page(html(report))
    assert page.scripts == [] and "b" not in page.tags  # the learner's tags are text, not elements
    assert f"You: {HOSTILE}" in page.text and f"{HOSTILE} again" in page.text
    assert "follow-up: misconception" in page.text
    assert "svg" in page.tags and "Mark:" in page.text
    printed = io.StringIO()
    console = Console(stdout=printed, width=200)
    for block in terminal(report):
        console.print(block)
    shown = printed.getvalue()
    assert "[bold red]MARKUP[/bold red]" in shown  # printed as typed, not applied
    assert "re-read explainer §4.3 — MQA vs GQA" in shown and "0:0" in shown


def test_the_mark_is_a_range_when_the_grader_is_unsure_and_a_number_when_sure(bank):
    _, sure, _ = exam_with(bank, "All of it.\n.\n", judge_of())
    mark = overall_mark(build(sure, bank, [sure]).items)
    assert mark.sure and "the grader is sure" in mark.text()
    unsure_judge = judge_of(mqa=0.66, groups=0.66, shrinks=0.66, tradeoff=0.66)
    _, unsure, _ = exam_with(bank, "Maybe all of it.\n.\n/skip\n", unsure_judge)
    mark = overall_mark(build(unsure, bank, [unsure]).items)
    assert not mark.sure and mark.low < mark.expected < mark.high
    assert abs(sum(mark.bands.values()) - 1) < 1e-6 and "likely" in mark.text()


def test_a_term_list_s_mark_stays_in_fail_however_unsure_the_grader(bank):
    unsure_judge = judge_of(mqa=0.66, groups=0.66, shrinks=0.66, tradeoff=0.66)
    terms = "MQA, GQA, KV heads, query heads, KV cache\n.\n/skip\n/skip\n"
    _, record, _ = exam_with(bank, terms, unsure_judge)
    mark = overall_mark(build(record, bank, [record]).items)
    assert mark.high <= TERM_LIST_CAP and abs(mark.bands[Band.FAIL] - 1) < 1e-9


def test_sections_to_reread_are_ordered_by_the_mark_they_would_add(bank):
    typed = "All of it.\n.\n/idk\n"
    _, record, _ = exam_with(bank, typed, judge_of(), ids=(GQA, "w06-thu-5"))
    report = build(record, bank, [record])
    first = report.sections[0]
    assert "PagedAttention" in first.label
    assert abs(first.gain - 0.5) < 1e-9  # an /idk loses the whole question: 1 of 2
    assert [s.gain for s in report.sections] == sorted((s.gain for s in report.sections), reverse=True)


def test_questions_lean_to_weak_and_due_cards(bank, tmp_path):
    history = History(tmp_path / "h.db")
    weak = bank.get("w06-fri-1")
    exam_with(bank, "Nothing.\n.\n", judge_of(), ids=(weak.id,), history=history)  # fails: due soon
    later = now() + timedelta(days=30)
    picks = [pick_questions(bank.rubrics, history, 1, random.Random(seed), later)[0].id
             for seed in range(300)]
    share = picks.count(weak.id) / len(picks)
    assert share > 2 / len(bank.rubrics)  # well above an even draw
    spread = pick_questions(bank.rubrics, history, 5, random.Random(1))
    assert len({r.refs[0].section.split(".")[0] for r in spread}) >= 3  # across the module


def run(*args, stdin=""):
    return CliRunner().invoke(app, ["--backend", "fake", *args], input=stdin, env={"COLUMNS": "100"},
                              catch_exceptions=False)


def test_the_cli_keeps_exams_shows_the_change_and_reports_last_or_an_id(tmp_path):
    first = run("exam", "--questions", "2", "--html", str(tmp_path / "one.html"), stdin="/idk\n/idk\n")
    assert first.exit_code == 0, first.output
    assert "Mark: 0.00" in first.stdout and (tmp_path / "one.html").exists()
    second = run("exam", "--questions", "1", "--html", str(tmp_path / "two.html"),
                 stdin="KV cache paging blocks heads memory.\n.\n/skip\n/skip\n")
    assert second.exit_code == 0 and "Change:" in second.stdout and "since exam 1" in second.stdout
    last = run("exam", "--report", "LAST", "--html", str(tmp_path / "again.html"))
    assert "Exam 2" in last.stdout and "Change:" in last.stdout
    assert "Exam 1" in run("exam", "--report", "1", "--html", str(tmp_path / "x.html")).stdout
    missing = run("exam", "--report", "7")
    assert missing.exit_code == 2 and "no exam '7'" in missing.stderr



def test_named_questions_are_asked_in_order(tmp_path):
    ran = run("exam", "--question", "W06-THU-5", "--question", "w06-thu-4",
              "--html", str(tmp_path / "q.html"), stdin="/skip\n/skip\n")
    assert ran.exit_code == 0
    assert ran.stdout.index("1/2 · w06-thu-5") < ran.stdout.index("2/2 · w06-thu-4")
    assert run("exam", "--question", "nope").exit_code == 2
    one = run("exam", "--question", "w06-thu-4", "--follow-ups", "1", "--html", str(tmp_path / "o.html"),
              stdin="Not much.\n.\nStill not much.\n.\n")
    assert one.stdout.count("Examiner:") == 1 + 2  # one follow-up; the report shows it and the question
    assert run("exam", "--follow-ups", "3").exit_code == 2


def test_ctrl_c_in_the_cli_shows_the_report_of_what_was_answered_and_exits_130(monkeypatch, tmp_path):
    from tutor.core import console

    lines = iter(["/idk\n"])

    def typed_then_ctrl_c(self, how):
        line = next(lines, None)
        if line is None:
            raise KeyboardInterrupt
        return line

    monkeypatch.setattr(console.Console, "_read", typed_then_ctrl_c)
    ran = run("exam", "--question", "w06-thu-4", "--question", "w06-thu-5",
              "--html", str(tmp_path / "c.html"))
    assert ran.exit_code == 130
    assert "Interrupted." in ran.stdout and "interrupted" in ran.stdout.split("Interrupted.")[1]
    assert "Mark: 0.00" in ran.stdout  # the /idk counts; the question Ctrl-C cut short does not
