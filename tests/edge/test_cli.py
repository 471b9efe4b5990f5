"""The CLI edge: one-line errors, named exit codes, and the commands' output.

The commands run in this process through Typer's CliRunner, which sees exactly what the
`tutor` script prints: `TutorGroup` turns a TutorError into the one stderr line and the
exit code. What only a real process shows is in test_entry_points.py."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutor.core.errors import ExitCode
from tutor.core.paths import rubrics_dir
from tutor.edge.cli import app

GOOD = rubrics_dir() / "w06-thu-4.yaml"


@dataclass
class Ran:
    """What a run of `tutor` left: the shape of subprocess.CompletedProcess the tests read."""

    returncode: int
    stdout: str
    stderr: str


def tutor(*args: str, stdin: str | bytes = "", env: dict[str, str | None] | None = None) -> Ran:
    """`tutor ARGS` in this process. `env` holds only the changes (None removes a variable).
    COLUMNS pins rich's width to the 80 a piped process gets, whatever terminal runs pytest.
    An exception other than SystemExit (a crash, not a one-line error) propagates and fails the test."""
    result = CliRunner().invoke(app, list(args), input=stdin, env={"COLUMNS": "80", **(env or {})},
                                catch_exceptions=False, prog_name="tutor")
    return Ran(result.exit_code, result.stdout, result.stderr)


def assert_one_line_error(result, code: ExitCode, *fragments: str):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tutor: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_rubrics_check_passes_on_shipped_bank():
    result = tutor("rubrics", "check")
    assert result.returncode == 0, result.stdout
    assert "33 files, 0 problems" in result.stdout


def test_rubrics_check_reports_every_problem_and_exits_1(tmp_path: Path):
    (tmp_path / "w06-thu-4.yaml").write_text(GOOD.read_text().replace("weight: 0.5", "wieght: 1"))
    (tmp_path / "bad.yaml").write_text("id: [\n")
    result = tutor("rubrics", "check", str(tmp_path))
    assert result.returncode == ExitCode.PROBLEMS
    assert "key_points[3].wieght: unknown key 'wieght'" in result.stdout
    assert "bad.yaml:" in result.stdout and "bad YAML" in result.stdout
    assert "2 files, 2 problems" in result.stdout


def test_rubrics_check_flags_unreviewed_skeletons(tmp_path: Path):
    from tests.conftest import SEED_DECK

    tutor("course", "new", str(tmp_path), "--deck", str(SEED_DECK))
    result = tutor("rubrics", "check", str(tmp_path))
    assert result.returncode == ExitCode.PROBLEMS
    assert "w06-mon-1: unreviewed draft" in result.stdout


def test_rubrics_check_missing_path():
    assert_one_line_error(tutor("rubrics", "check", "nope/"), ExitCode.BAD_INPUT, "no such file")


def test_questions_filters_by_day_and_section():
    result = tutor("questions", "--day", "thursday", "--section", "4.3")
    assert result.returncode == 0
    assert "w06-thu-4" in result.stdout and "w06-thu-1" not in result.stdout
    assert "§4.3 — MQA vs GQA" in result.stdout


def test_questions_bad_day():
    assert_one_line_error(tutor("questions", "--day", "caturday"), ExitCode.BAD_INPUT, "caturday")


def test_bad_question_id_is_one_line(tmp_path: Path):
    answer = tmp_path / "a.txt"
    answer.write_text("x")
    result = tutor("grade-answer", "--question", "w06-xyz-1", "--answer-file", str(answer))
    assert_one_line_error(result, ExitCode.BAD_INPUT, "unknown question id 'w06-xyz-1'")


def test_unreadable_answer_file_is_one_line(tmp_path: Path):
    result = tutor("grade-answer", "--question", "w06-thu-4", "--answer-file", str(tmp_path / "no.txt"))
    assert_one_line_error(result, ExitCode.BAD_INPUT, "no such answer file")
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    result = tutor("grade-answer", "--question", "w06-thu-4", "--answer-file", str(binary))
    assert_one_line_error(result, ExitCode.BAD_INPUT, "cannot read answer file")


def test_missing_model_file_is_one_line(tmp_path: Path):
    answer = tmp_path / "a.txt"
    answer.write_text("GQA shares one key/value head per group of query heads.")
    result = tutor("--model", str(tmp_path / "none.gguf"), "grade-answer", "--question",
                   "w06-thu-4", "--answer-file", str(answer))
    assert_one_line_error(result, ExitCode.MODEL, "none.gguf")


def test_uninstalled_default_model_says_how_to_install(tmp_path: Path):
    env = {"TUTOR_MODEL_DIR": str(tmp_path / "models")}
    answer = tmp_path / "a.txt"
    answer.write_text("GQA shares one key/value head per group of query heads.")
    result = tutor("grade-answer", "--question", "w06-thu-4", "--answer-file", str(answer), env=env)
    assert_one_line_error(result, ExitCode.MODEL, "tutor model install")


@pytest.mark.parametrize("args", [["--help"], ["rubrics", "--help"]])
def test_help(args):
    assert tutor(*args).returncode == 0


def test_config_show_masks_the_key(tmp_path: Path):
    env = {"OPENAI_API_KEY": "sk-very-secret-abcd", "TUTOR_HOME": str(tmp_path)}
    result = tutor("--backend", "openai", "config", "show", env=env)
    assert result.returncode == 0
    assert "****abcd" in result.stdout and "very-secret" not in result.stdout
    assert "openai" in result.stdout and "flag" in result.stdout and "environment" in result.stdout


def test_grade_json_carries_signals_and_doubt_but_not_hidden_states(tmp_path):
    answer = tmp_path / "a.txt"
    answer.write_text("MQA shares one key/value head; GQA shares one per group of query heads.")
    result = tutor("--backend", "fake", "grade-answer", "--question", "w06-thu-4", "--answer-file",
                   str(answer), "--json")
    assert result.returncode == 0, result.stderr
    import json

    data = json.loads(result.stdout)
    assert data["head"] == "p_yes" and 0 <= data["band_probability"] <= 1 and "review" in data
    judged = [v for v in data["verdicts"] if v["kind"] != "numeric"]
    assert judged and all("p_yes" in v and "state" not in v for v in judged)


def test_a_missing_head_file_or_saved_run_is_one_line(tmp_path):
    result = tutor("--head", str(tmp_path / "none.npz"), "eval", "--from", str(tmp_path / "r.jsonl"))
    assert_one_line_error(result, ExitCode.BAD_INPUT, "none.npz", "--head", "no such head file")
    result = tutor("eval", "--from", str(tmp_path / "r.jsonl"))
    assert_one_line_error(result, ExitCode.BAD_INPUT, "r.jsonl", "no such saved run")


def make_course(root: Path) -> Path:
    import shutil

    (root / "rubrics").mkdir(parents=True)
    shutil.copy(GOOD, root / "rubrics")
    (root / "course.toml").write_text("title = 'One question'\nmodule = 'one'\n")
    return root


@pytest.mark.parametrize("how", ["option", "global option", "environment", "config file"])
def test_every_way_of_naming_a_course_reaches_the_commands(tmp_path: Path, tutor_home: Path, how: str):
    course = str(make_course(tmp_path / "course"))
    args, env = ["questions"], {}
    if how == "option":
        args += ["--course", course]
    elif how == "global option":
        args = ["--course", course, *args]
    elif how == "environment":
        env["TUTOR_COURSE"] = course
    else:
        (tutor_home / "config").mkdir(parents=True)
        (tutor_home / "config" / "config.toml").write_text(f"course = {course!r}\n")
    result = tutor(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert "w06-thu-4" in result.stdout and "w06-thu-1" not in result.stdout


def test_history_is_kept_per_course(tmp_path: Path):
    course = str(make_course(tmp_path / "course"))
    answer = "MQA shares one KV head across all query heads.\n.\n"
    assert tutor("--backend", "fake", "ask", "w06-thu-4", "--course", course, stdin=answer).returncode == 0
    assert "answered: 1/1" in tutor("stats", "--course", course).stdout
    assert "answered: 0/33" in tutor("stats").stdout  # the bundled course's history has no attempt


def test_course_new_refuses_a_deck_import_under_the_old_name(tmp_path: Path):
    from tests.conftest import SEED_DECK

    result = tutor("deck", "import", str(SEED_DECK))
    assert_one_line_error(result, ExitCode.BAD_INPUT, "tutor course new")
