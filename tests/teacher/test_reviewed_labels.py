"""Overrides teach: a teacher's review becomes labelled examples, the grader's agreement with the
teacher is measured (`tutor eval --from MARKS_DIR`) and the course's head is refitted on it
(`tutor calibrate --from MARKS_DIR`)."""

import json
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from tests.edge.test_cli import tutor
from tutor.core.course import open_course
from tutor.core.decide import ProbeHead, Thresholds
from tutor.core.errors import TutorError
from tutor.core.judges.fake import FakeJudge
from tutor.core.paths import rubrics_dir
from tutor.core.result import Outcome
from tutor.teacher import overrides, reviewed_labels
from tutor.teacher.batch.command import grade_submissions
from tutor.teacher.evaluation import metrics, rescore_run
from tutor.teacher.overrides import results

QUESTION = "w06-thu-4"
STUDENTS = 30


def identity_head() -> ProbeHead:
    """A head on P(yes) alone that gives P(yes) back: logit → sigmoid."""
    return ProbeHead(mean=np.zeros(3), scale=np.ones(3), coef=np.array([1.0, 0.0, 0.0]), intercept=0.0,
                     thresholds=Thresholds(0.5, 0.5), review_below=0.6, use_state=False,
                     meta={"name": "identity"})


@pytest.fixture
def reviewed_class(tmp_path: Path) -> tuple[Path, Path]:
    """A course with one question and its own head; a class graded by the fake judge (pseudo-random
    P(yes) per claim and answer); a teacher who counts a point as stated only from P(yes) 0.8."""
    course = tmp_path / "course"
    (course / "rubrics").mkdir(parents=True)
    shutil.copy(rubrics_dir() / f"{QUESTION}.yaml", course / "rubrics")
    (course / "course.toml").write_text("# our course\ntitle = 'One question'\nmodule = 'one'\n"
                                        "head = 'h.npz'\n")
    identity_head().save(course / "h.npz")
    rows = "".join(f"s{i},{QUESTION},\"GQA answer number {i}: groups of query heads share KV heads.\"\n"
                   for i in range(STUDENTS))
    (tmp_path / "class.csv").write_text("student,question,answer\n" + rows)
    marks = tmp_path / "marks"
    grade_submissions(open_course(course).bank, FakeJudge, [tmp_path / "class.csv"], marks)
    review_key_points(marks, stated_from=0.8)
    return course, marks


def review_key_points(marks: Path, stated_from: float, skip: str = "") -> None:
    """A teacher's review: every key point stated when the judge's P(yes) is at least `stated_from`
    (the answers of student `skip` left unreviewed)."""
    for row in results(marks):
        if row.student == skip:
            continue
        for verdict in row.grade.by_kind("key_point"):
            stated = Outcome.HIT if (verdict.p_yes or 0.0) >= stated_from else Outcome.MISS
            overrides.append(marks, overrides.made_now(row, "ms-k", "point", point_id=verdict.point_id,
                                                       old=verdict.outcome.value, new=stated.value))


def test_reviewed_answers_carry_the_teachers_verdicts(reviewed_class):
    course, marks = reviewed_class
    run = reviewed_labels.reviewed_run(open_course(course).bank, marks)
    assert len(run.gold) == STUDENTS
    for gold, machine in zip(run.gold, run.grades, strict=True):
        judged = {v.point_id: v.p_yes for v in machine.verdicts if v.kind == "key_point"}
        assert gold.key_points == {pid: p >= 0.8 for pid, p in judged.items()}
        assert gold.category == "reviewed" and gold.note == "reviewed by ms-k"


def test_a_mark_alone_labels_the_band_but_no_point(tmp_path, reviewed_class):
    course, marks = reviewed_class
    row = next(r for r in results(marks) if r.student == "s0")
    (marks / "overrides.jsonl").unlink()
    mark = overrides.made_now(row, "ms-k", "mark", old=row.score, new=0.95, reason="fine")
    overrides.append(marks, mark)
    [gold] = reviewed_labels.reviewed_run(open_course(course).bank, marks).gold
    assert (gold.mark, gold.band.value, gold.key_points, gold.misconceptions) == (0.95, "full", {}, {})


def test_eval_from_a_marks_folder_measures_the_grader_against_the_teacher(reviewed_class):
    course, marks = reviewed_class
    result = tutor("eval", "--from", str(marks), "--course", str(course))
    assert result.returncode == 0, result.stderr
    assert "| answers (ungraded) | 30 (0) |" in result.stdout
    run = rescore_run(open_course(course).bank, reviewed_labels.reviewed_run(open_course(course).bank, marks),
                      identity_head())
    assert f"| band accuracy | {metrics(run).band_accuracy:.3f} |" in result.stdout


def test_calibrate_from_a_marks_folder_refits_the_course_head_on_the_teacher(reviewed_class):
    course, marks = reviewed_class
    bank = open_course(course).bank
    result = tutor("calibrate", "--from", str(marks), "--course", str(course))
    assert result.returncode == 0, result.stderr
    info = (course / "course.toml").read_text()
    settings = tomllib.loads(info)
    assert settings == {"title": "One question", "module": "one", "head": "judge-head.npz"}  # others kept
    assert info.splitlines()[0] == "# our course"  # and the teacher's comment
    refit = ProbeHead.load(course / "judge-head.npz")
    assert refit.thresholds.key_point > 0.5  # the teacher is stricter than P(yes) 0.5
    labelled = [json.loads(line) for line in (marks / "labelled.jsonl").read_text().splitlines()]
    assert len(labelled) == STUDENTS
    run = reviewed_labels.reviewed_run(bank, marks)
    before = metrics(rescore_run(bank, run, identity_head())).band_accuracy
    after = metrics(rescore_run(bank, run, refit)).band_accuracy
    assert after > before
    # the course grades with the refitted head from now on
    assert open_course(course).head == str(course / "judge-head.npz")


def test_calibrate_from_too_few_reviews_says_how_many_it_needs(reviewed_class):
    course, marks = reviewed_class
    lines = (marks / "overrides.jsonl").read_text().splitlines(keepends=True)
    kept = [line for line in lines if json.loads(line)["student"] in {"s1", "s2"}]
    (marks / "overrides.jsonl").write_text("".join(kept))
    with pytest.raises(TutorError, match="2 answers with reviewed points; refitting needs at least 20"):
        from tutor.teacher.refit import refit_on_reviews

        bank = open_course(course).bank
        refit_on_reviews(bank, reviewed_labels.reviewed_run(bank, marks), identity_head(), "marks")


def test_the_bundled_course_is_never_rewritten(reviewed_class):
    _, marks = reviewed_class
    result = tutor("calibrate", "--from", str(marks))
    assert result.returncode != 0 and "bundled course cannot be changed" in result.stderr


def test_calibrate_from_one_review_counts_it_in_the_singular(reviewed_class):
    """Issue 28 (12): "1 answer with reviewed points", not "1 answers"."""
    from tutor.teacher.refit import refit_on_reviews

    course, marks = reviewed_class
    lines = (marks / "overrides.jsonl").read_text().splitlines(keepends=True)
    kept = [line for line in lines if json.loads(line)["student"] == "s1"]
    (marks / "overrides.jsonl").write_text("".join(kept))
    bank = open_course(course).bank
    with pytest.raises(TutorError, match="marks: 1 answer with reviewed points; refitting needs at least 20"):
        refit_on_reviews(bank, reviewed_labels.reviewed_run(bank, marks), identity_head(), "marks")


def test_a_label_is_the_machine_s_verdicts_with_the_teacher_s_in_place(reviewed_class):
    """No grade is made again for a label: each point the teacher saw is the machine's verdict, or
    the one the teacher set; the same labels the reviewed grade's verdicts give."""
    course, marks = reviewed_class
    bank = open_course(course).bank
    for item in overrides.reviewed_answers(bank, marks):
        label = reviewed_labels.TeacherLabel.of(item)
        assert label is not None and label.reviewers == ("ms-k",)
        assert label.key_points == {v.point_id: v.outcome == Outcome.HIT
                                             for v in item.points.by_kind("key_point")}
        assert (label.mark, label.band) == item.grade.decided
