"""Issue 27, CLI side, each defect with its neighbours: every option that takes a number, URL
or path refuses a bad value in one line; saved runs and the history are read or named in one
line; Ctrl-C ends every learner session with one message and exit 130; `--json` keeps stdout
JSON only; silent no-ops (empty topic, missing files, empty folders) are errors."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.edge.test_cli import assert_one_line_error, tutor
from tests.interrupt import TUTOR
from tutor.core.errors import ExitCode

FAKE = ("--backend", "fake")
ANSWER = "GQA shares one key value head per group of query heads"


# 9 and 12. Every numeric option: out of range, not finite, or not a number

NUMBERS = [
    (["--timeout", "1e12", "questions"], "--timeout"),
    (["--timeout", "-5", "questions"], "--timeout"),
    (["--timeout", "nan", "questions"], "--timeout"),
    (["--timeout", "abc", "questions"], "--timeout"),
    (["drill", "--limit", "-1"], "--limit"),
    (["drill", "--limit", "0"], "--limit"),
    (["drill", "--limit", "ten"], "--limit"),
    (["explain", "GQA", "--rounds", "-3"], "--rounds"),
    (["review", ".", "--port", "-1"], "--port"),
    (["review", ".", "--port", "70000"], "--port"),
    (["grade", "x.csv", "--out", "o", "--parallel-answers", "0"], "--parallel-answers"),
    (["grade", "x.csv", "--out", "o", "--concurrency", "-4"], "--concurrency"),
    (["grade", "x.csv", "--out", "o", "--parallel-answers", "1000000"], "--parallel-answers"),
    (["eval", "--limit", "0"], "--limit"),
    (["eval", "--rerun", "-1"], "--rerun"),
    (["eval", "--kp-threshold", "1.5"], "--kp-threshold"),
    (["eval", "--kp-threshold", "nan"], "--kp-threshold"),
    (["eval", "--misc-threshold", "-0.1"], "--misc-threshold"),
    (["eval", "--min-spearman", "2"], "--min-spearman"),
    (["eval", "--min-band-accuracy", "inf"], "--min-band-accuracy"),
]


@pytest.mark.parametrize(("args", "option"), NUMBERS, ids=[" ".join(a) for a, _ in NUMBERS])
def test_every_numeric_option_refuses_a_bad_value_in_one_line(args, option):
    result = tutor(*FAKE, *args)
    assert_one_line_error(result, ExitCode.BAD_INPUT, option)


@pytest.mark.parametrize(("variable", "value"), [("TUTOR_TIMEOUT", "1e12"), ("TUTOR_TIMEOUT", "inf")])
def test_a_numeric_setting_out_of_range_in_the_environment_is_one_line(variable, value):
    assert_one_line_error(tutor("questions", env={variable: value}), ExitCode.BAD_INPUT, "timeout", variable)


@pytest.mark.parametrize(("line", "field"), [("timeout = 1e12", "timeout"),
                                             ("parallel_claims = 0", "parallel_claims"),
                                             ("parallel_claims = 100000", "parallel_claims")])
def test_a_numeric_setting_out_of_range_in_the_config_file_is_one_line(tutor_home, line, field):
    (tutor_home / "config").mkdir(parents=True, exist_ok=True)
    (tutor_home / "config" / "config.toml").write_text(line + "\n")
    assert_one_line_error(tutor("questions"), ExitCode.BAD_INPUT, f"setting '{field}'", "config.toml")


def test_the_zero_round_explain_and_other_edges_of_each_range_are_accepted():
    result = tutor(*FAKE, "explain", "w06-thu-4", "--rounds", "0", stdin=ANSWER + "\n.\n")
    assert result.returncode == 0, result.stderr
    assert "Examiner:" not in result.stdout.split("Summary")[0].split("?", 1)[1]  # no follow-up asked


# 9. URLs

@pytest.mark.parametrize("url", ["http://[::1", "localhost:8000", "ftp://example.com/v1", "http://",
                                 "http://host:99999/v1", "http://host:abc/v1", "http://exa mple.com/v1"])
def test_a_malformed_base_url_is_one_line_naming_it(url):
    result = tutor("--backend", "openai", "--model", "m", "--base-url", url, "questions")
    assert_one_line_error(result, ExitCode.BAD_INPUT, "--base-url", url)


def test_a_malformed_base_url_in_the_environment_names_the_variable():
    result = tutor("questions", env={"OPENAI_BASE_URL": "http://[::1"})
    assert_one_line_error(result, ExitCode.BAD_INPUT, "OPENAI_BASE_URL")


@pytest.mark.parametrize("url", ["http://[::1]:8000/v1", "https://api.openai.com/v1", "http://localhost:8080/v1/"])
def test_a_good_base_url_is_kept_as_written(url):
    result = tutor("--base-url", url, "config", "show", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert url in result.stdout


# 9 and 12. Paths: missing, a folder for a file, a file of the wrong kind

@pytest.fixture
def files(tmp_path) -> Path:
    (tmp_path / "folder").mkdir()
    (tmp_path / "class.csv").write_text("student,question,answer\nann,w06-thu-4,GQA\n")
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "latin1.jsonl").write_bytes(b'{"gold_id": "caf\xe9"}\n')
    (tmp_path / "list.jsonl").write_text("[1, 2]\n")
    (tmp_path / "marks.jsonl").write_text(json.dumps({"student": "ann", "grade": {}}) + "\n")
    return tmp_path


@pytest.fixture
def saved_run(tmp_path) -> Path:
    """A real saved run of two dev answers (fake judge)."""
    out = tmp_path / "run"
    result = tutor(*FAKE, "eval", "--split", "dev", "--limit", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out / "results.jsonl"


@pytest.mark.parametrize(("name", "says"), [
    ("nope.jsonl", "no such saved run"), ("folder", "not a marks folder"),
    ("class.csv", "class.csv:1: unreadable JSON"), ("empty.jsonl", "no graded answers"),
    ("latin1.jsonl", "cannot read"), ("list.jsonl", "list.jsonl:1:"),
    ("marks.jsonl", "marks.jsonl:1: gold_id")])
def test_eval_from_anything_but_a_saved_run_is_one_line(files, name, says):
    assert_one_line_error(tutor("eval", "--from", str(files / name)), ExitCode.BAD_INPUT, says)


def test_eval_from_a_run_torn_by_a_kill_names_the_torn_line(saved_run):
    lines = saved_run.read_text().splitlines()
    saved_run.write_text("\n".join(lines[:1]) + "\n" + lines[1][: len(lines[1]) // 2])  # killed mid-write
    result = tutor("eval", "--from", str(saved_run))
    assert_one_line_error(result, ExitCode.BAD_INPUT, f"{saved_run}:2", "torn")


def test_eval_from_a_whole_saved_run_still_reports(saved_run):
    result = tutor("--head", "plain", "eval", "--from", str(saved_run))
    assert result.returncode == 0, result.stderr
    assert "Grader eval, saved runs" in result.stdout


def test_a_run_without_hidden_states_under_a_state_head_is_one_line(saved_run):
    """The fake judge, like an API, gives no hidden states; the shipped head reads them."""
    assert_one_line_error(tutor("eval", "--from", str(saved_run)), ExitCode.BAD_INPUT, "hidden states",
                          "--head plain")


@pytest.mark.parametrize(("args", "says"), [
    (["eval", "--from", "{run}", "--labelled", "{d}/nope.jsonl"], "no such labelled file"),
    (["eval", "--from", "{run}", "--labelled", "{d}/folder"], "not a labelled file"),
    (["calibrate", "{d}/nope.jsonl", "--dev", "{run}", "--out", "{d}/h.npz"], "no such saved run"),
    (["calibrate", "{run}", "--dev", "{d}/nope.jsonl", "--out", "{d}/h.npz"], "no such saved run"),
    (["calibrate", "{d}/class.csv", "--dev", "{run}", "--out", "{d}/h.npz"], "class.csv:1"),
    (["calibrate", "{run}", "--dev", "{run}", "--out", "{d}/h.npz", "--labelled", "{d}/folder"],
     "not a labelled file"),
    (["rubrics", "check", "{d}/folder"], "no rubric files"),
    (["--explainer", "{d}/nope.md", "questions"], "--explainer"),
    (["--explainer", "{d}/folder", "questions"], "--explainer"),
    (["--explainer", "{d}/nope.md", "config", "show"], "nope.md"),
])
def test_every_path_option_names_a_missing_or_wrong_path_in_one_line(files, saved_run, args, says):
    args = [a.format(d=files, run=saved_run) for a in args]
    assert_one_line_error(tutor(*FAKE, *args), ExitCode.BAD_INPUT, says)


def test_an_explainer_in_the_environment_or_config_must_exist_too(tutor_home, tmp_path):
    missing = tmp_path / "gone.md"
    assert_one_line_error(tutor("questions", env={"TUTOR_EXPLAINER": str(missing)}), ExitCode.BAD_INPUT,
                          "TUTOR_EXPLAINER", str(missing))
    (tutor_home / "config").mkdir(parents=True, exist_ok=True)
    (tutor_home / "config" / "config.toml").write_text(f'explainer = "{missing}"\n')
    assert_one_line_error(tutor("questions"), ExitCode.BAD_INPUT, "setting 'explainer'", str(missing))


@pytest.mark.parametrize("command", [["stats"], [*FAKE, "drill"], [*FAKE, "ask", "w06-thu-4"],
                                     [*FAKE, "explain", "GQA"]])
def test_a_history_path_that_is_a_folder_is_one_line(tutor_home, command):
    folder = tutor_home / "data" / "history.sqlite3"
    (folder / "inside").mkdir(parents=True)
    result = tutor(*command, stdin=ANSWER + "\n.\n")
    assert_one_line_error(result, ExitCode.BAD_INPUT, str(folder), "folder")
    assert (folder / "inside").is_dir()  # left as it was


def test_a_course_history_path_that_is_a_folder_is_one_line(tutor_home, tmp_path):
    from tests.conftest import SEED_DECK

    course = tmp_path / "week07"
    assert tutor("course", "new", str(course), "--deck", str(SEED_DECK), "--module", "w07").returncode == 0
    (tutor_home / "data" / "courses" / "w07" / "history.sqlite3").mkdir(parents=True)
    assert_one_line_error(tutor("stats", "--course", str(course)), ExitCode.BAD_INPUT, "history.sqlite3")


# 12. Silent no-ops

@pytest.mark.parametrize("topic", ["", "   ", "\t"])
def test_explain_with_an_empty_topic_is_one_line(topic):
    assert_one_line_error(tutor(*FAKE, "explain", topic), ExitCode.BAD_INPUT, "no topic")


def test_an_empty_submissions_folder_is_exit_2(tmp_path):
    (tmp_path / "subs").mkdir()
    result = tutor(*FAKE, "grade", str(tmp_path / "subs"), "--out", str(tmp_path / "marks"))
    assert_one_line_error(result, ExitCode.BAD_INPUT, "no submissions", str(tmp_path / "subs"))


@pytest.mark.parametrize("question", ["W06-THU-4", "W06-thu-4", " w06-thu-4 "])
def test_a_question_id_in_any_case_works_in_every_command(tmp_path, question):
    answer = tmp_path / "a.txt"
    answer.write_text(ANSWER)
    runs = [tutor(*FAKE, "grade-answer", "--question", question, "--answer-file", str(answer), "--json"),
            tutor(*FAKE, "ask", question, stdin=ANSWER + "\n.\n"),
            tutor(*FAKE, "drill", "--question", question, stdin="/skip\n"),
            tutor(*FAKE, "explain", question, "--rounds", "0", stdin=ANSWER + "\n.\n")]
    assert [r.returncode for r in runs] == [0, 0, 0, 0], [r.stderr for r in runs]
    assert json.loads(runs[0].stdout)["question_id"] == "w06-thu-4"
    assert all("w06-thu-4" in r.stdout for r in runs[1:])


# 11. --json: stdout is the JSON alone

def test_ask_json_prints_only_the_grade_on_stdout():
    result = tutor(*FAKE, "ask", "w06-thu-4", "--json", stdin=ANSWER + "\n.\n")
    assert result.returncode == 0, result.stderr
    grade = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert grade["question_id"] == "w06-thu-4"
    assert "MQA vs GQA" in result.stderr and "score" in result.stderr  # question and panel went to stderr


def test_grade_answer_json_prints_only_the_grade_on_stdout(tmp_path):
    answer = tmp_path / "a.txt"
    answer.write_text(ANSWER)
    result = tutor(*FAKE, "grade-answer", "--question", "w06-thu-4", "--answer-file", str(answer), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["question_id"] == "w06-thu-4"


# ask --json --audio: tests/learner/test_voice.py::test_ask_with_audio_grades_the_recording


# 10. Ctrl-C: one message, exit 130, in every session and in a batch

def interrupted(args: list[str], ready: str, tutor_home: Path, typed: str) -> subprocess.CompletedProcess:
    """`tutor ARGS` in a real process, sent SIGINT once `ready` is on its stdout (or stderr),
    after `typed` went to its stdin. A real process: only one receives a real signal."""
    env = {**os.environ, "TUTOR_HOME": str(tutor_home), "TUTOR_FAKE_DELAY": "0.2", "COLUMNS": "200"}
    child = subprocess.Popen([*TUTOR, *FAKE, *args], env=env, text=True, bufsize=1,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(typed)
    child.stdin.flush()
    seen = ""
    while ready not in seen:
        line = child.stdout.readline()
        assert line, f"ended before {ready!r}: {seen}"
        seen += line
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    return subprocess.CompletedProcess(args, child.returncode, seen + out, err)


SESSIONS = [(["ask", "w06-thu-4"], "w06-thu-4"), (["drill", "--limit", "2"], "1/2"),
            (["explain", "GQA"], "GQA")]


@pytest.mark.parametrize(("args", "ready"), SESSIONS, ids=["ask", "drill", "explain"])
def test_ctrl_c_in_a_session_says_so_once_and_exits_130(tutor_home, args, ready):
    result = interrupted(args, ready, tutor_home, typed="half an answer\n")
    assert result.returncode == ExitCode.INTERRUPTED, (result.stdout, result.stderr)
    assert (result.stdout + result.stderr).count("Interrupted") == 1
    assert "error" not in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_in_a_batch_says_what_is_kept_and_exits_130(tmp_path):
    class_csv = tmp_path / "class.csv"
    class_csv.write_text("student,question,answer\n" + "".join(f"s{i},w06-thu-4,{ANSWER} {i}\n"
                                                                for i in range(60)))
    out = tmp_path / "marks"
    env = {**os.environ, "TUTOR_HOME": str(tmp_path / "home"), "TUTOR_FAKE_DELAY": "0.05"}
    child = subprocess.Popen([*TUTOR, *FAKE, "grade", str(class_csv), "--out",
                              str(out)], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not ((out / "results.jsonl").exists() and (out / "results.jsonl").read_text()):
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == ExitCode.INTERRUPTED, err
    assert err.strip().splitlines() == [f"Interrupted: the answers graded so far are saved in {out}; run the "
                                        "same command again to grade the rest."]
    kept = (out / "results.jsonl").read_text().splitlines()
    assert kept and all(json.loads(line)["status"] == "graded" for line in kept)
