"""Courses as folders: course.toml, band cut-offs, the course's head and explainer."""

import shutil
from pathlib import Path

import pytest

from tutor.core.course import bundled_course, open_course
from tutor.core.errors import TutorError
from tutor.core.grader import grade
from tutor.core.judges.fake import FakeJudge
from tutor.core.paths import rubrics_dir


def make_course(root: Path, toml: str = "", rubric: str = "w06-thu-4") -> Path:
    (root / "rubrics").mkdir(parents=True)
    shutil.copy(rubrics_dir() / f"{rubric}.yaml", root / "rubrics")
    if toml:
        (root / "course.toml").write_text(toml)
    return root


def test_the_bundled_course_is_week_6_from_the_package():
    course = bundled_course()
    assert course.bundled and course.key is None and course.info.module == "w06"
    assert len(course.bank) == 33 and course.rubrics_dir == rubrics_dir()


def test_course_cut_offs_decide_the_band_with_the_one_score_rule(tmp_path):
    strict = open_course(make_course(tmp_path / "strict", "[bands]\nfail_below = 0.6\nfull_from = 0.9\n"))
    plain = open_course(make_course(tmp_path / "plain"))
    rubric_strict, rubric_plain = strict.bank.get("w06-thu-4"), plain.bank.get("w06-thu-4")
    answer = "MQA shares one K/V head across all query heads; GQA shares one per group of heads."
    a = grade(rubric_plain, answer, FakeJudge(default=0.9))
    b = grade(rubric_strict, answer, FakeJudge(default=0.9))
    assert a.score == b.score  # same verdicts, same score: only where the bands begin differs
    assert a.band is not None and b.band is not None
    assert 0.3 <= a.score < 0.6  # partial by the default cut-offs, fail by this course's
    assert (a.band.value, b.band.value) == ("partial", "fail")
    assert rubric_strict.version != rubric_plain.version  # another band rule: not the same cache entry


def test_a_rubric_without_bands_keeps_its_version():
    rubric = bundled_course().bank.get("w06-thu-4")
    assert rubric.bands is None
    assert rubric.version == rubric.model_copy(update={"bands": None}).version


@pytest.mark.parametrize("toml, fragments", [
    ("title = 'x'\n\n[bands]\nfail_below = 0.9\nfull_from = 0.5\n", ["course.toml:3", "bands", "below"]),
    ("title = 'x'\nmodul = 'w07'\n", ["course.toml:2", "modul", "unknown key"]),
    ("title = \n", ["course.toml", "bad TOML", "line 1"]),
])
def test_a_bad_course_toml_is_one_line_with_file_line_and_field(tmp_path, toml, fragments):
    with pytest.raises(TutorError) as caught:
        open_course(make_course(tmp_path / "c", toml))
    assert all(f in caught.value.message for f in fragments), caught.value.message


def test_a_folder_that_is_not_a_course_is_named(tmp_path):
    with pytest.raises(TutorError, match="no such folder"):
        open_course(tmp_path / "missing")
    with pytest.raises(TutorError, match="no rubrics/ folder"):
        open_course(tmp_path)


def test_head_and_explainer_are_found_in_the_course_folder(tmp_path):
    root = make_course(tmp_path / "c", "module = 'w06b'\nhead = 'judge-head.npz'\n")
    (root / "explainer.md").write_text("# 4.3 MQA vs GQA\ntext\n")
    course = open_course(root)
    assert course.head == str(root / "judge-head.npz")
    assert course.explainer == root / "explainer.md"
    assert course.key == "w06b"
