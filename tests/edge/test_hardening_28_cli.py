"""Issue 28, CLI side, each defect with its neighbours: one-line errors for a bad port, module
name or course (9); a deck with one bad question writes nothing (10); `course new` says what it
made in one line, not a line per file (12)."""

import os
import subprocess
import sys

import pytest

from tests.conftest import SEED_DECK
from tests.edge.test_cli import assert_one_line_error, tutor
from tutor.core.errors import ExitCode

FAKE = ("--backend", "fake")


# 9. One-line errors where a traceback showed

@pytest.mark.parametrize("port", ["99999", "65536", "-1", "x", "8.5", ""])
def test_a_review_port_out_of_range_or_not_a_number_is_one_line(tmp_path, port):
    result = tutor("review", str(tmp_path), "--port", port, "--no-browser")
    assert_one_line_error(result, ExitCode.BAD_INPUT, "--port")


@pytest.mark.parametrize("module", ["a b", "W07", "w07/x", "-w07", "w07_x", "é7", "a" * 300, ".."])
def test_a_module_that_is_no_question_id_prefix_is_one_line_and_writes_nothing(tmp_path, module):
    course = tmp_path / "course"
    result = tutor("course", "new", str(course), "--deck", str(SEED_DECK), "--module", module)
    assert_one_line_error(result, ExitCode.BAD_INPUT, "--module")
    assert not (course / "course.toml").exists() and not list(course.rglob("*.yaml"))


@pytest.mark.parametrize("module", ["w07", "m1", "a" * 40, "ml-101"])
def test_a_module_id_prefix_makes_a_course(tmp_path, module):
    course = tmp_path / "course"
    result = tutor("course", "new", str(course), "--deck", str(SEED_DECK), "--module", module)
    assert result.returncode == 0, result.stderr
    assert (course / "rubrics" / f"{module}-thu-4.yaml").exists()


def _marks_of_bundled_course(tmp_path):
    subs = tmp_path / "class.csv"
    subs.write_text("student,question,answer\nann,w06-thu-4,GQA shares KV heads\n")
    marks = tmp_path / "marks"
    assert tutor(*FAKE, "grade", str(subs), "--out", str(marks)).returncode == 0
    return marks


def test_review_with_a_course_that_lacks_the_graded_questions_is_one_line_at_start(tmp_path):
    marks = _marks_of_bundled_course(tmp_path)
    other = tmp_path / "week07"
    assert tutor("course", "new", str(other), "--deck", str(SEED_DECK), "--module", "w07").returncode == 0
    # a process of its own: before the fix the server started and served until killed
    result = subprocess.run([sys.executable, "-m", "tutor", "review", str(marks), "--course", str(other),
                             "--no-browser", "--port", "0"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "COLUMNS": "80"})
    assert_one_line_error(result, ExitCode.BAD_INPUT, "--course", "w06-thu-4", str(marks))
    assert "Reviewing" not in result.stdout


# 10. A deck with one bad question leaves nothing behind

def test_a_deck_with_one_question_without_a_pointer_writes_nothing_and_a_rerun_needs_no_force(tmp_path):
    deck = tmp_path / "deck.md"
    text = SEED_DECK.read_text(encoding="utf-8")
    lines = text.splitlines()
    last = max(n for n, line in enumerate(lines) if "(explainer" in line)
    lines[last] = lines[last][:lines[last].index("(explainer")] + "no pointer here"
    deck.write_text("\n".join(lines) + "\n", encoding="utf-8")
    course = tmp_path / "course"
    result = tutor("course", "new", str(course), "--deck", str(deck), "--module", "w07")
    assert_one_line_error(result, ExitCode.BAD_INPUT, str(deck), "no (explainer §X.Y) pointer", "nothing")
    assert not (course / "course.toml").exists() and not list(course.rglob("*.yaml"))
    deck.write_text(text, encoding="utf-8")  # the author fixes the deck and runs it again
    again = tutor("course", "new", str(course), "--deck", str(deck), "--module", "w07")
    assert again.returncode == 0, again.stderr


# 12. Messages a person trips over: `course new` says what it made, not every file

def test_course_new_says_what_it_made_in_two_lines(tmp_path):
    course = tmp_path / "course"
    result = tutor("course", "new", str(course), "--deck", str(SEED_DECK))
    assert result.returncode == 0, result.stderr
    made = len(list((course / "rubrics").glob("*.yaml")))
    assert made == 33
    assert "w06-mon-1.yaml" not in result.stdout
    assert len(result.stdout.strip().splitlines()) <= 2
    assert "33 rubric skeletons" in result.stdout
    assert str(course / "rubrics") in result.stdout.replace("\n", "")


# 7. Skeleton rubrics are not graded against

@pytest.fixture
def skeleton_course(tmp_path):
    course = tmp_path / "week07"
    assert tutor("course", "new", str(course), "--deck", str(SEED_DECK), "--module", "w07").returncode == 0
    return course


def _answer(tmp_path):
    answer = tmp_path / "answer.txt"
    answer.write_text("GQA shares one key value head per group of query heads.\n")
    return answer


def _class(tmp_path):
    subs = tmp_path / "class.csv"
    subs.write_text("student,question,answer\nann,w07-thu-4,GQA shares KV heads\n")
    return subs


SKELETON_RUNS = {
    "grade": lambda tmp_path: ("grade", str(_class(tmp_path)), "--out", str(tmp_path / "marks")),
    "grade-answer": lambda tmp_path: ("grade-answer", "--question", "w07-thu-4",
                                      "--answer-file", str(_answer(tmp_path))),
    "ask": lambda tmp_path: ("ask", "w07-thu-4"),
    "drill": lambda tmp_path: ("drill", "--question", "w07-thu-4"),
    "explain": lambda tmp_path: ("explain", "w07-thu-4", "--rounds", "0"),
}


@pytest.mark.parametrize("command", list(SKELETON_RUNS))
def test_grading_against_a_skeleton_rubric_is_refused_naming_its_file(tmp_path, skeleton_course, command):
    args = SKELETON_RUNS[command](tmp_path)
    result = tutor(*FAKE, *args, "--course", str(skeleton_course), stdin="GQA shares KV heads\n.\n")
    assert_one_line_error(result, ExitCode.BAD_INPUT, str(skeleton_course / "rubrics" / "w07-thu-4.yaml"),
                          "reviewed: false", "--allow-drafts")
    assert "TODO" not in result.stdout and not (tmp_path / "marks" / "results.jsonl").exists()


@pytest.mark.parametrize("command", list(SKELETON_RUNS))
def test_allow_drafts_grades_against_a_skeleton(tmp_path, skeleton_course, command):
    args = SKELETON_RUNS[command](tmp_path)
    result = tutor(*FAKE, *args, "--course", str(skeleton_course), "--allow-drafts",
                   stdin="GQA shares KV heads\n.\n")
    assert "reviewed: false" not in result.stderr
    assert result.returncode == 0, result.stderr


def test_a_reviewed_rubric_in_a_course_with_skeletons_is_graded(tmp_path, skeleton_course):
    rubric = skeleton_course / "rubrics" / "w07-thu-4.yaml"
    rubric.write_text(rubric.read_text().replace("reviewed: false", "reviewed: true"))
    result = tutor(*FAKE, *SKELETON_RUNS["grade"](tmp_path), "--course", str(skeleton_course))
    assert result.returncode == 0, result.stderr
