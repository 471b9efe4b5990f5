"""Resumable batch grading with a fake judge: append-as-you-go, resume, cache, retry."""

import json

from tutor.core.decide import PlainHead, Thresholds
from tutor.core.grader import grade
from tutor.core.judges.fake import FakeJudge
from tutor.teacher.batch.inputs import Submission
from tutor.teacher.batch.outputs import write_all
from tutor.teacher.batch.run import RESULTS, BatchRun
from tutor.teacher.records import results_lines


def class_of(n: int) -> list[Submission]:
    return [Submission(f"in:{i}", f"s{i:02d}", q, f"answer {i} about {q} with GQA and KV cache")
            for i in range(n) for q in ("w06-thu-4", "w06-fri-3")]


def run_all(bank, out, subs, judge=None, retry=False):
    run = BatchRun(bank, judge or FakeJudge(), out, head=PlainHead())
    made = list(run.grade_all(run.pending(subs, retry)))
    run.finalize(subs)
    return made, list(run.results())


def test_results_have_top_level_fields_and_one_line_per_answer(bank, tmp_path):
    subs = class_of(3)
    _, rows = run_all(bank, tmp_path, subs)
    lines = (tmp_path / RESULTS).read_text().splitlines()
    assert len(lines) == 6
    first = json.loads(lines[0])
    assert {"student", "question_id", "score", "band", "grade"} <= set(first)
    assert (first["student"], first["question_id"]) == ("s00", "w06-thu-4")


def test_unchanged_rerun_grades_nothing(bank, tmp_path):
    subs = class_of(3)
    run_all(bank, tmp_path, subs)
    judge = FakeJudge()
    made, rows = run_all(bank, tmp_path, subs, judge)
    assert made == [] and judge.requests == [] and len(rows) == 6


def test_interrupted_run_resumes_without_loss_or_duplicates(bank, tmp_path):
    subs = class_of(4)
    straight = tmp_path / "straight"
    straight.mkdir()
    _, straight_rows = run_all(bank, straight, subs)
    broken = tmp_path / "broken"
    broken.mkdir()
    run = BatchRun(bank, FakeJudge(), broken, head=PlainHead())
    stream = run.grade_all(run.pending(subs, False))
    next(stream), next(stream), next(stream)  # three results written, then the process "dies"
    stream.close()
    with (broken / RESULTS).open("a") as sink:
        sink.write('{"key": "half a line')  # a crash mid-write
    made, broken_rows = run_all(bank, broken, subs)
    assert len(made) == 5  # the cut line is graded again, the three complete ones are not
    assert len({key for _, _, key in results_lines(broken / RESULTS)}) == 8
    write_all(straight, bank, straight_rows, [])
    write_all(broken, bank, broken_rows, [])
    feedback = [f"feedback/{f.name}" for f in (straight / "feedback").iterdir()]
    assert len(feedback) == 4
    for name in (RESULTS, "gradebook.csv", "report.html", *feedback):
        assert (broken / name).read_bytes() == (straight / name).read_bytes(), name


def test_retry_errors_regrades_only_failed_rows(bank, tmp_path):
    class Flaky(FakeJudge):
        def judge(self, request, on_signals=None):
            if "answer 1 " in request.answer:
                from tutor.core.errors import TutorError

                raise TutorError("server down")
            return super().judge(request, on_signals)

    subs = class_of(3)
    _, rows = run_all(bank, tmp_path, subs, Flaky())
    assert sum(r.status == "ungraded" for r in rows) == 2
    judge = FakeJudge()
    made, rows = run_all(bank, tmp_path, subs, judge, retry=True)
    assert [m.student for m in made] == ["s01", "s01"]
    assert all(r.status == "graded" for r in rows) and len(rows) == 6


def test_a_changed_decision_rule_puts_every_answer_back_in_the_queue(bank, tmp_path):
    subs = class_of(1)
    run_all(bank, tmp_path, subs)
    stricter = PlainHead(Thresholds(key_point=0.9))  # another decision rule → another cache key
    assert len(list(BatchRun(bank, FakeJudge(), tmp_path, head=stricter).pending(subs, False))) == 2
    assert list(BatchRun(bank, FakeJudge(), tmp_path, head=PlainHead()).pending(subs, False)) == []


def test_grades_match_the_single_answer_path(bank, tmp_path):
    subs = class_of(1)
    _, rows = run_all(bank, tmp_path, subs)
    single = grade(bank.get("w06-thu-4"), subs[0].answer, FakeJudge())
    assert rows[0].grade.model_dump(mode="json") == single.model_dump(mode="json")
