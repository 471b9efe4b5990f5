"""What only a real process shows: `python -m tutor` and the installed `tutor` script, the
interpreter's own traceback and stdin decoding, and output written straight to file
descriptor 2. Every other CLI test runs in-process (tests/edge/test_cli.py)."""

import os
import subprocess
import sys
from pathlib import Path

from tests.edge.test_cli import assert_one_line_error
from tutor.core.errors import ExitCode


def python_m_tutor(*args: str, stdin: str | bytes = "", env: dict[str, str] | None = None):
    """`python -m tutor ARGS` in a new process; `env` holds only the changes."""
    return subprocess.run([sys.executable, "-m", "tutor", *args], input=stdin, text=isinstance(stdin, str),
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=600)


def test_python_m_tutor_prints_one_line_error_with_the_named_exit_code():
    result = python_m_tutor("questions", "--day", "caturday")
    assert_one_line_error(result, ExitCode.BAD_INPUT, "caturday")


def test_a_corrupt_model_leaves_one_line_on_the_real_stderr(tmp_path: Path):
    # A subprocess: llama.cpp logs to file descriptor 2, which CliRunner does not capture.
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    answer = tmp_path / "a.txt"
    answer.write_text("GQA shares one key/value head per group of query heads.")
    result = python_m_tutor("--model", str(bad), "grade-answer", "--question", "w06-thu-4",
                            "--answer-file", str(answer))
    assert_one_line_error(result, ExitCode.MODEL, "cannot load model")


def test_debug_flag_reraises():
    # A subprocess: the traceback is the interpreter's, printed as the process dies.
    result = python_m_tutor("questions", "--day", "caturday", env={"TUTOR_DEBUG": "1"})
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_the_installed_script_runs_help():
    script = Path(sys.executable).with_name("tutor")
    assert script.exists(), f"{script}: the package's `tutor` script is not installed"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "Usage: tutor" in result.stdout


def test_stdin_that_is_not_utf8_is_one_line_through_the_real_stdin():
    # A subprocess: CliRunner's stdin decodes strictly; a real one (UTF-8 mode, a C locale)
    # can instead hand over the bad bytes as surrogates, the other branch of Console._read.
    result = python_m_tutor("--backend", "fake", "grade-answer", "--question", "w06-thu-4",
                            "--answer-file", "-", stdin=b"GQA \xff\xfe bad\n.\n",
                            env={"PYTHONIOENCODING": "utf-8:surrogateescape"})
    result.stderr = result.stderr.decode()
    assert_one_line_error(result, ExitCode.BAD_INPUT, "stdin", "UTF-8")
