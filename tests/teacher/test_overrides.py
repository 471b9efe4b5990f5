"""The review audit trail: overrides are appended, never lost, applied by one set of rules, and
go stale (listed, not applied) when the answer or rubric they were made on changes."""

import csv
import json
import multiprocessing
import os
from pathlib import Path

import pytest

from tutor.core.bank import Bank
from tutor.core.errors import TutorError
from tutor.core.grader import overruled
from tutor.core.judges.fake import FakeJudge
from tutor.core.result import Outcome
from tutor.teacher.batch.command import grade_submissions
from tutor.teacher.batch.outputs import feedback_name, write_marks
from tutor.teacher.evaluation import load_labelled
from tutor.teacher.overrides import (
    OVERRIDES,
    Override,
    append,
    load,
    made_now,
    resolve,
    results,
    reviewed_answer,
    reviewed_answers,
)

QUESTION = "w06-thu-4"
ANSWER = "GQA shares one key value head per group of query heads, so the KV cache is smaller."


def grade_class(bank, tmp_path, answers, judge=None):
    """A marks folder from a CSV of (student, answer) to QUESTION, graded by the fake judge
    (p 0.1 for every claim: no key point stated, no misconception)."""
    path = tmp_path / "class.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "question", "answer"])
        writer.writerows([student, QUESTION, answer] for student, answer in answers)
    out = tmp_path / "marks"
    grade_submissions(bank, lambda: judge or FakeJudge(default=0.1), [path], out)
    return out


def row_of(out, student):
    return next(r for r in results(out) if r.student == student)


def gradebook(out):
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        return {r["student"]: r for r in csv.DictReader(handle)}


def test_append_then_load_gives_back_every_override_in_order(bank, tmp_path):
    out = grade_class(bank, tmp_path, [("ann", ANSWER)])
    row = row_of(out, "ann")
    made = [made_now(row, "teach", "point", point_id="gqa-groups", old="miss", new="hit"),
            made_now(row, "teach", "mark", old=0.0, new=0.7, reason="good enough"),
            made_now(row, "teach", "accept")]
    for override in made:
        append(out, override)
    assert load(out) == (made, [])
    lines = (out / OVERRIDES).read_text().splitlines()
    assert [json.loads(line)["change"] for line in lines] == ["point", "mark", "accept"]
    assert json.loads(lines[1])["at"].endswith("Z") and json.loads(lines[1])["new"] == 0.7


@pytest.mark.parametrize("bad", [
    {"change": "point", "new": "hit"},  # no point_id
    {"change": "point", "point_id": "p", "new": "maybe"},
    {"change": "mark", "new": 1.5},
    {"change": "mark", "new": "0.5"},
    {"change": "accept", "new": 0.5},
    {"change": "accept", "extra": 1},
    {"change": "accept", "at": "2026-01-01T00:00:00"},  # no time zone
])
def test_an_override_that_does_not_fit_its_change_is_refused(bad):
    fields = {"at": "2026-01-01T00:00:00Z", "reviewer": "t", "student": "s", "question_id": "q",
              "answer_sha256": "0" * 64, "rubric_version": "v", "change": "accept"} | bad
    with pytest.raises(ValueError):
        Override.model_validate(fields)


def _append_many(out, row, worker, count):
    for n in range(count):
        append(out, made_now(row, f"w{worker}", "accept", reason=f"{worker}-{n}-" + "x" * 3000))


def test_concurrent_writers_lose_and_mix_no_line(bank, tmp_path):
    out = grade_class(bank, tmp_path, [("ann", ANSWER)])
    row = row_of(out, "ann")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(out, row, w, 40)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join()
    found, problems = load(out)
    assert problems == []
    expected = sorted(f"{w}-{n}" for w in range(4) for n in range(40))
    assert sorted(o.reason.split("-x")[0] for o in found) == expected


def test_a_damaged_line_is_skipped_and_reported_and_the_next_append_starts_fresh(bank, tmp_path, capsys):
    out = grade_class(bank, tmp_path, [("ann", ANSWER)])
    row = row_of(out, "ann")
    append(out, made_now(row, "t", "accept"))
    with (out / OVERRIDES).open("ab") as handle:
        handle.write(b'{"at": "2026-01-01T00:00:00Z", "revi')  # a crash mid-line
    append(out, made_now(row, "t", "mark", new=0.5, reason="r"))
    (out / OVERRIDES).open("ab").write(b"not json\n")
    found, problems = load(out)
    assert [o.change for o in found] == ["accept", "mark"]
    assert [p.split(": skipped")[0] for p in problems] == [f"{out / OVERRIDES}:2", f"{out / OVERRIDES}:4"]
    assert all("\n" not in p for p in problems)
    assert reviewed_answer(bank, out, "ann", QUESTION).grade.score == 0.5  # the good lines still apply
    capsys.readouterr()
    grade_class(bank, tmp_path, [("ann", ANSWER)])  # `tutor grade` says so too, and keeps the file
    assert f"tutor: {out / OVERRIDES}:2: skipped" in capsys.readouterr().err
    assert len((out / OVERRIDES).read_text().splitlines()) == 4


def test_a_point_override_rescores_through_the_grader_score_rule(bank, tmp_path):
    out = grade_class(bank, tmp_path, [("ann", ANSWER)])
    row = row_of(out, "ann")
    append(out, made_now(row, "t", "point", point_id="gqa-groups", old="miss", new="hit"))
    append(out, made_now(row, "t", "point", point_id="mqa-one-kv-head", old="miss", new="hit"))
    append(out, made_now(row, "t", "point", point_id="gqa-groups", old="hit", new="miss"))  # the latest wins
    item = reviewed_answer(bank, out, "ann", QUESTION)
    expected = overruled(bank.get(QUESTION), ANSWER, item.machine, {"mqa-one-kv-head": Outcome.HIT})
    assert item.machine.score == 0.0
    assert item.grade.score == expected.score > 0 and item.grade.band == expected.band
    assert {v.point_id: v.outcome for v in item.grade.verdicts}["gqa-groups"] == Outcome.MISS
    assert item.reviewed and item.changed and item.changed_by == item.applied[-1]  # the latest change


def test_a_mark_override_sets_score_and_band_and_outlives_later_point_changes(bank, tmp_path):
    out = grade_class(bank, tmp_path, [("ann", ANSWER)])
    row = row_of(out, "ann")
    append(out, made_now(row, "t", "mark", old=0.0, new=0.85, reason="says it all, in other words"))
    append(out, made_now(row, "t", "point", point_id="gqa-groups", old="miss", new="hit"))
    item = reviewed_answer(bank, out, "ann", QUESTION)
    assert (item.grade.score, item.grade.band.value) == (0.85, "full")
    assert item.points.score > 0 and item.points.score != 0.85  # what the page shows beside the mark
    assert item.changed and item.changed_by.change == "mark"
    assert item.changed_by.reason == "says it all, in other words"


def test_accept_clears_the_review_flag_and_changes_nothing_else(bank, tmp_path):
    out = grade_class(bank, tmp_path, [("ann", ANSWER)])
    row = row_of(out, "ann")
    doubtful = row.grade.model_copy(update={"review": True, "band_probability": 0.4})
    row = row.model_copy(update={"grade": doubtful})
    item = resolve(bank.get(QUESTION), row, [made_now(row, "t", "accept")])
    assert item.machine.review and not item.grade.review
    assert item.grade.score == item.machine.score and item.reviewed and not item.changed
    assert resolve(bank.get(QUESTION), row, []).grade.review  # nothing applied: still flagged


def test_an_override_of_a_changed_answer_is_stale_not_applied(bank, tmp_path, capsys):
    out = grade_class(bank, tmp_path, [("ann", ANSWER), ("bob", ANSWER)])
    for student in ("ann", "bob"):
        append(out, made_now(row_of(out, student), "t", "mark", new=0.9, reason="r"))
    grade_class(bank, tmp_path, [("ann", ANSWER + " Also MQA."), ("bob", ANSWER)])  # ann resubmitted
    ann, bob = (reviewed_answer(bank, out, s, QUESTION) for s in ("ann", "bob"))
    assert ann.grade.score == 0.0 and ann.why_stale == ["the answer changed since the review"]
    assert bob.grade.score == 0.9 and bob.stale == []
    err = capsys.readouterr().err
    assert "1 review override in" in err and "no longer applies" in err


def test_an_override_of_another_rubric_version_is_stale(bank, tmp_path):
    out = grade_class(bank, tmp_path, [("ann", ANSWER)])
    append(out, made_now(row_of(out, "ann"), "t", "mark", new=0.9, reason="r"))
    edited = bank.get(QUESTION).model_copy(update={"reference_answer": "A new reference answer."})
    newer = Bank([edited if r.id == QUESTION else r for r in bank.rubrics])
    assert edited.version != bank.get(QUESTION).version
    item = reviewed_answer(newer, out, "ann", QUESTION)  # not graded again yet
    assert item.grade.score == 0.0 and "rubric changed" in item.why_stale[0]
    grade_class(newer, tmp_path, [("ann", ANSWER)])  # graded again with the new rubric
    item = reviewed_answer(newer, out, "ann", QUESTION)
    assert item.grade.score == 0.0
    assert item.why_stale == ["the answer was graded again with another rubric version"]


def test_an_override_whose_answer_left_the_results_is_stale_and_reported(bank, tmp_path):
    out = grade_class(bank, tmp_path, [("ann", ANSWER), ("bob", ANSWER)])
    append(out, made_now(row_of(out, "bob"), "t", "mark", new=0.9, reason="r"))
    (out / "results.jsonl").write_text(row_of(out, "ann").line())  # bob's answer gone
    marks = write_marks(out, bank)
    assert marks.stale == 1
    assert "answer no longer in results" in (out / "report.html").read_text()
    assert [i.key for i in reviewed_answers(bank, out)] == [("ann", QUESTION)]


def test_regrading_keeps_overrides_and_the_gradebook_and_feedback_show_them(bank, tmp_path):
    out = grade_class(bank, tmp_path, [("ann", ANSWER), ("bob", ANSWER)])
    assert "changed by reviewer" not in (out / "gradebook.csv").read_text()  # no review yet
    append(out, made_now(row_of(out, "ann"), "Ms <b>T</b>", "mark", old=0.0, new=0.6,
                         reason="explains *why* [link](http://x)"))
    before = (out / OVERRIDES).read_bytes()
    grade_class(bank, tmp_path, [("ann", ANSWER), ("bob", ANSWER)])
    assert (out / OVERRIDES).read_bytes() == before
    book = gradebook(out)
    assert (book["ann"][QUESTION], book["ann"]["total"]) == ("0.600", "0.600")
    assert (book["ann"]["changed by reviewer"], book["bob"]["changed by reviewer"]) == (QUESTION, "")
    assert book["ann"]["stale overrides"] == ""
    feedback = (out / "feedback" / feedback_name("ann")).read_text()
    assert "Score 0.60 (partial)" in feedback
    assert ("Mark changed by \u2068" + r"Ms \<b\>T\</b\>" + "\u2069: \u2068"
            + r"explains \*why\* \[link\]\(http://x\)" + "\u2069") in feedback
    assert "Mark changed" not in (out / "feedback" / feedback_name("bob")).read_text()


def test_write_marks_leaves_problems_csv_as_the_batch_wrote_it(bank, tmp_path):
    out = grade_class(bank, tmp_path, [("ann", ANSWER), ("bob", "")])
    problems = (out / "problems.csv").read_bytes()
    append(out, made_now(row_of(out, "bob"), "t", "mark", new=0.2, reason="blank, but tried orally"))
    os.utime(out / "problems.csv", (0, 0))
    write_marks(out, bank)
    assert (out / "problems.csv").read_bytes() == problems and (out / "problems.csv").stat().st_mtime == 0
    assert gradebook(out)["bob"][QUESTION] == "0.200"


def test_a_folder_without_results_is_one_line_error(bank, tmp_path):
    with pytest.raises(TutorError, match="not a marks folder") as caught:
        list(reviewed_answers(bank, tmp_path))
    assert str(tmp_path) in caught.value.message and "\n" not in caught.value.message


def test_labelled_lines_and_override_lines_word_a_problem_alike(tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text('{"id": "g1"}\n', encoding="utf-8")
    with pytest.raises(TutorError) as caught:
        load_labelled(labelled)
    (tmp_path / OVERRIDES).write_text('{}\n', encoding="utf-8")
    _, problems = load(tmp_path)
    assert str(caught.value).startswith(f"{labelled}:1: ")
    assert str(caught.value).endswith(": required field is missing")
    assert problems[0].startswith(f"{tmp_path / OVERRIDES}:1: skipped, ")
    assert problems[0].endswith(": required field is missing")
