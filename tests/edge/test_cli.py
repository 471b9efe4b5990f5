"""The CLI edge: one-line errors, named exit codes, and the commands' output."""

import subprocess
import sys
from pathlib import Path

import pytest

from tutor.core.errors import ExitCode
from tutor.core.paths import rubrics_dir

GOOD = rubrics_dir() / "week06" / "w06-thu-4.yaml"


def tutor(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tutor", *args], input=stdin, text=True,
                          capture_output=True, env=env, timeout=600)


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

    tutor("deck", "import", str(SEED_DECK), "--out", str(tmp_path))
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


def test_corrupt_model_file_is_one_line(tmp_path: Path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    answer = tmp_path / "a.txt"
    answer.write_text("GQA shares one key/value head per group of query heads.")
    result = tutor("--model", str(bad), "grade-answer", "--question", "w06-thu-4",
                   "--answer-file", str(answer))
    assert_one_line_error(result, ExitCode.MODEL, "cannot load model")


def test_uninstalled_default_model_says_how_to_install(tmp_path: Path):
    import os

    env = {**os.environ, "TUTOR_MODEL_DIR": str(tmp_path / "models")}
    answer = tmp_path / "a.txt"
    answer.write_text("GQA shares one key/value head per group of query heads.")
    result = tutor("grade-answer", "--question", "w06-thu-4", "--answer-file", str(answer), env=env)
    assert_one_line_error(result, ExitCode.MODEL, "tutor model install")


def test_debug_flag_reraises(tmp_path: Path):
    import os

    env = {**os.environ, "TUTOR_DEBUG": "1"}
    result = tutor("questions", "--day", "caturday", env=env)
    assert result.returncode != 0 and "Traceback" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["rubrics", "--help"]])
def test_help(args):
    assert tutor(*args).returncode == 0


def test_config_show_masks_the_key(tmp_path: Path):
    import os

    env = {**os.environ, "OPENAI_API_KEY": "sk-very-secret-abcd", "TUTOR_HOME": str(tmp_path)}
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
    assert_one_line_error(result, ExitCode.BAD_INPUT, "none.npz", "not a head file")
    result = tutor("eval", "--from", str(tmp_path / "r.jsonl"))
    assert_one_line_error(result, ExitCode.BAD_INPUT, "r.jsonl", "no such saved run")
