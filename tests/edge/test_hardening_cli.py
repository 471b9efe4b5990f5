"""Issue 13, CLI side: closed stdin, bad options, files in the way of folders, a corrupt
or contended history, hostile rubric files, and terminal escapes in untrusted text."""

import io
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.edge.test_cli import GOOD, assert_one_line_error, tutor
from tutor.core.bank import check_files, parse_rubric
from tutor.core.errors import ExitCode

ESCAPES = "GQA \x1b[31mred\x1b]0;pwned\x07 \x9b2J heads\x1b[2J"


def tutor_closed_stdin(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run tutor with file descriptor 0 closed (`<&-`), as a detached script might.
    A subprocess: only a process started without fd 0 has sys.stdin None; CliRunner always gives one."""
    script = 'exec "$0" -m tutor "$@" <&-'
    return subprocess.run(["sh", "-c", script, sys.executable, *args], text=True,
                          capture_output=True, env=env, timeout=600)


def tutor_no_stdin(*args: str):
    """stdin at end of input from the start, as from /dev/null."""
    return tutor(*args, stdin="")


# 1. stdin closed or empty

GRADE_STDIN = ("--backend", "fake", "grade-answer", "--question", "w06-thu-4", "--answer-file", "-")


@pytest.mark.parametrize("run", [tutor_closed_stdin, tutor_no_stdin], ids=["closed", "devnull"])
def test_grade_answer_from_missing_stdin_is_a_no_answer_error(run):
    assert_one_line_error(run(*GRADE_STDIN), ExitCode.BAD_INPUT, "no answer", "stdin")


@pytest.mark.parametrize("run", [tutor_closed_stdin, tutor_no_stdin], ids=["closed", "devnull"])
def test_ask_with_missing_stdin_grades_nothing(run, tutor_home):
    assert_one_line_error(run("--backend", "fake", "ask", "w06-thu-4"), ExitCode.BAD_INPUT,
                          "no answer typed")
    history = tutor_home / "data" / "history.sqlite3"
    assert not history.exists() or not sqlite3.connect(history).execute(
        "SELECT count(*) FROM attempts").fetchone()[0]


@pytest.mark.parametrize("command", [GRADE_STDIN, ("--backend", "fake", "ask", "w06-thu-4")],
                         ids=["grade-answer", "ask"])
def test_stdin_that_is_not_utf8_is_one_line(command):
    result = tutor(*command, stdin=b"GQA \xff\xfe bad\n.\n")
    assert_one_line_error(result, ExitCode.BAD_INPUT, "stdin", "UTF-8")


# 2. --timeout


@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf"])
def test_a_timeout_that_is_not_a_positive_number_is_one_line(value):
    result = tutor("--timeout", value, "config", "show")
    assert_one_line_error(result, ExitCode.BAD_INPUT, "--timeout")


def test_a_bad_timeout_in_the_environment_names_the_variable():
    result = tutor("config", "show", env={"TUTOR_TIMEOUT": "-1"})
    assert_one_line_error(result, ExitCode.BAD_INPUT, "timeout", "environment")


# 3. a file where a folder belongs


@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "taken"
    path.write_text("precious")
    return path


def test_tutor_home_pointing_at_a_file_is_one_line(a_file):
    result = tutor("stats", env={"TUTOR_HOME": str(a_file)})
    assert_one_line_error(result, ExitCode.BAD_INPUT, str(a_file), "TUTOR_HOME", "not a folder")
    assert a_file.read_text() == "precious"


def test_grade_out_pointing_at_a_file_is_one_line(a_file, tmp_path):
    csv = tmp_path / "class.csv"
    csv.write_text("student,question,answer\nann,w06-thu-4,GQA shares KV heads\n")
    result = tutor("--backend", "fake", "grade", str(csv), "--out", str(a_file))
    assert_one_line_error(result, ExitCode.BAD_INPUT, str(a_file), "--out", "not a folder")
    assert a_file.read_text() == "precious"


def test_course_new_pointing_at_a_file_is_one_line(a_file):
    from tests.conftest import SEED_DECK

    result = tutor("course", "new", str(a_file), "--deck", str(SEED_DECK))
    assert_one_line_error(result, ExitCode.BAD_INPUT, str(a_file), "course folder", "not a folder")


def test_eval_out_below_a_file_fails_before_any_work(a_file, tmp_path):
    saved = tmp_path / "results.jsonl"
    saved.write_text("")
    result = tutor("eval", "--from", str(saved), "--out", str(a_file / "sub"))
    assert_one_line_error(result, ExitCode.BAD_INPUT, str(a_file), "--out", "not a folder")


# 4. a corrupt history


def _corrupt_history(tutor_home: Path, how: str) -> Path:
    from tutor.core.result import Grade
    from tutor.learner.history import History

    path = tutor_home / "data" / "history.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "junk":
        path.write_bytes(os.urandom(4096))
        return path
    history = History(path)
    for n in range(200):
        history.record(None, "ask", "x" * 500, Grade.ungraded(f"q{n}", "test"))
    history.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    history.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("how", ["junk", "truncated"])
@pytest.mark.parametrize("command", [["stats"], ["--backend", "fake", "drill"]])
def test_a_corrupt_history_is_one_line_and_kept(tutor_home, how, command):
    path = _corrupt_history(tutor_home, how)
    before = path.read_bytes()
    result = tutor(*command, stdin="")
    assert_one_line_error(result, ExitCode.BAD_INPUT, str(path), "move it aside")
    assert path.read_bytes() == before


# 5. first-run race


def _open_and_record(path: str, barrier, n: int) -> None:
    from tutor.core.result import Grade
    from tutor.learner.history import History

    barrier.wait()
    history = History(Path(path))
    history.record(None, "drill", f"answer {n}", Grade.ungraded("w06-thu-4", "race"))
    history.close()


def test_concurrent_first_opens_all_succeed_and_lose_nothing(tmp_path):
    path = tmp_path / "history.sqlite3"
    context = multiprocessing.get_context("fork")
    workers = 8
    for _round in range(3):
        path.unlink(missing_ok=True)
        barrier = context.Barrier(workers)
        processes = [context.Process(target=_open_and_record, args=(str(path), barrier, n))
                     for n in range(workers)]
        for p in processes:
            p.start()
        for p in processes:
            p.join(60)
        assert [p.exitcode for p in processes] == [0] * workers
        rows = sqlite3.connect(path).execute("SELECT answer FROM attempts").fetchall()
        assert sorted(r[0] for r in rows) == sorted(f"answer {n}" for n in range(workers))
        for name in ("", "-wal", "-shm"):
            Path(f"{path}{name}").unlink(missing_ok=True)


def test_reopening_a_current_history_changes_nothing(tmp_path):
    from tutor.learner.history import SCHEMA_VERSION, History

    path = tmp_path / "h.sqlite3"
    History(path).close()
    history = History(path)
    assert history.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "transcript_json" in {r[1] for r in history.db.execute("PRAGMA table_info(sessions)")}


# 6. hostile rubric files


def test_a_deeply_nested_rubric_is_a_problem_for_that_file_only(tmp_path):
    (tmp_path / "deep.yaml").write_text("id: " + "[" * 1000 + "]" * 1000 + "\n")
    (tmp_path / "w06-thu-4.yaml").write_text(GOOD.read_text())
    rubrics, problems = check_files([tmp_path])
    assert [r.id for r in rubrics] == ["w06-thu-4"]
    assert len(problems) == 1 and "deep.yaml" in str(problems[0]) and "nested" in str(problems[0])


def test_rubrics_check_goes_on_after_a_deeply_nested_file(tmp_path):
    (tmp_path / "deep.yaml").write_text("id: " + "[" * 1000 + "]" * 1000 + "\n")
    (tmp_path / "w06-thu-4.yaml").write_text(GOOD.read_text())
    result = tutor("rubrics", "check", str(tmp_path))
    assert result.returncode == ExitCode.PROBLEMS and "Traceback" not in result.stderr
    assert "2 files, 1 problem," in result.stdout


def test_rubrics_check_counts_one_file_in_the_singular(tmp_path):
    """Issue 28 (12): "1 file, 0 problems, 0 warnings", not "1 files"."""
    (tmp_path / "w06-thu-4.yaml").write_text(GOOD.read_text())
    result = tutor("rubrics", "check", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 file, 0 problems, 0 warnings" in result.stdout


def _with_second_block(text: str, key: str) -> str:
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i][:1] not in (" ", "-", "\n"))
    return "".join(lines[:end] + lines[start:end] + lines[end:])


def test_a_duplicated_key_points_block_names_file_line_and_key(tmp_path):
    text = _with_second_block(GOOD.read_text(), "key_points")
    path = tmp_path / "w06-thu-4.yaml"
    path.write_text(text)
    second = [n for n, line in enumerate(text.splitlines(), 1) if line.startswith("key_points:")][1]
    rubric, problems = parse_rubric(path)
    assert rubric is None and len(problems) == 1
    assert str(problems[0]).startswith(f"{path}:{second}:")
    assert "duplicate key 'key_points'" in str(problems[0])


def test_a_duplicated_id_inside_a_point_is_a_problem(tmp_path):
    text = GOOD.read_text().replace("  - id: ", "  - id: first\n    id: ", 1)
    path = tmp_path / "w06-thu-4.yaml"
    path.write_text(text)
    rubric, problems = parse_rubric(path)
    assert rubric is None and "duplicate key 'id'" in str(problems[0])


NUMERIC = GOOD.parent / "w06-fri-3.yaml"


@pytest.mark.parametrize(("old", "new", "where"), [
    ("expected: 131072", "expected: .nan", "numeric[0].expected"),
    ("expected: 131072", "expected: -.inf", "numeric[0].expected"),
    ("tolerance: 0.05", "tolerance: .nan", "numeric[0].tolerance"),
    ("tolerance: 0.05", "tolerance: 0.05\n    weight: .inf", "numeric[0].weight")])
def test_nan_and_inf_in_a_numeric_check_name_the_field(tmp_path, old, new, where):
    path = tmp_path / NUMERIC.name
    path.write_text(NUMERIC.read_text().replace(old, new))
    rubric, problems = parse_rubric(path)
    assert rubric is None
    assert any(p.field == where and "finite" in p.message for p in problems), problems


def test_an_infinite_key_point_weight_is_a_problem(tmp_path):
    path = tmp_path / "w06-thu-4.yaml"
    path.write_text(GOOD.read_text().replace("weight: 0.5", "weight: .inf"))
    rubric, problems = parse_rubric(path)
    assert rubric is None and problems[0].field == "key_points[3].weight"


# 7. terminal safety


def test_safe_text_neutralises_every_control_but_newline_and_tab():
    from tutor.core.console import safe_line, safe_text

    shown = safe_text("a\x1b[31mb\x07c\x9bd\x7fe\tf\ng\u202eh\x00")
    assert "\t" in shown and "\n" in shown
    assert not any(ord(ch) < 32 and ch not in "\t\n" or 0x7f <= ord(ch) <= 0x9f or ch == "\u202e"
                   for ch in shown), repr(shown)
    assert "\n" not in safe_line("one\ntwo") and "\x1b" not in safe_line("\x1b[2J")


def test_console_output_carries_no_escape_from_untrusted_text():
    from rich.table import Table

    from tutor.core.console import Console

    out = io.StringIO()
    console = Console(stdout=out, width=80)
    table = Table("answer")
    table.add_row(ESCAPES)
    console.print(table)
    console.print(ESCAPES)
    assert not any(ch in out.getvalue() for ch in "\x1b\x07\x9b"), repr(out.getvalue())
    assert out.getvalue().count("red") == 2


def test_feedback_quoting_a_hostile_answer_prints_no_escape():
    result = tutor("--backend", "fake", "ask", "w06-thu-4", stdin=ESCAPES + "\n.\n")
    assert result.returncode == 0, result.stderr
    assert "red" in result.stdout and not any(ch in result.stdout for ch in "\x1b\x07\x9b")


def test_an_error_quoting_user_text_prints_no_escape(tmp_path):
    answer = tmp_path / "a.txt"
    answer.write_text("x")
    result = tutor("grade-answer", "--question", "w06\x1b]0;pwned\x07-thu\nfake", "--answer-file",
                   str(answer))
    assert_one_line_error(result, ExitCode.BAD_INPUT, "unknown question id")
    assert not any(ch in result.stderr for ch in "\x1b\x07")


def test_paths_printed_by_course_new_keep_their_brackets(tmp_path):
    from tests.conftest import SEED_DECK

    out = tmp_path / "[bold]skeletons"
    result = tutor("course", "new", str(out), "--deck", str(SEED_DECK))
    assert result.returncode == 0, result.stderr
    assert "[bold]skeletons" in result.stdout.replace("\n", "")
