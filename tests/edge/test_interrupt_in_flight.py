"""Red team R5: Ctrl-C while a server hangs stops at once, in a batch and in grade-answer: the
request in flight and its retries are abandoned, no further request is sent, one "Interrupted"
line, exit 130. A real process, since only one receives a real signal."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.core.judges.fake_server import Reply, serve
from tests.interrupt import TUTOR
from tutor.core.errors import ExitCode

ANSWER = "GQA shares each K/V head across a group of query heads."


Interrupted = tuple[subprocess.CompletedProcess, float, int, int]


def interrupt_when_asked(args: list[str], home: Path, stdin: str = "") -> Interrupted:
    """Runs `tutor --backend openai … ARGS` against a hanging server, sends SIGINT once a chat
    request is in flight; returns the run, seconds from the signal to the exit, and the POSTs
    seen at the signal and in all."""
    fake = serve(Reply(hang=True))
    env = {**os.environ, "TUTOR_HOME": str(home), "COLUMNS": "200"}
    command = [*TUTOR, "--backend", "openai", "--model", "m", "--base-url", fake.url,
               "--timeout", "10", *args]
    try:
        child = subprocess.Popen(command, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while fake.posts == 0:
            assert time.monotonic() < deadline and child.poll() is None, child.poll()
            time.sleep(0.05)
        time.sleep(0.3)
        at_signal = fake.posts
        child.send_signal(signal.SIGINT)
        sent = time.monotonic()
        out, err = child.communicate(stdin, timeout=60)
        seconds = time.monotonic() - sent
        time.sleep(0.3)
        return subprocess.CompletedProcess(args, child.returncode, out, err), seconds, at_signal, fake.posts
    finally:
        fake.close()


@pytest.mark.parametrize("rows", [1, 6])
@pytest.mark.parametrize("parallel", ["1", "3"])
def test_ctrl_c_in_a_batch_against_a_hanging_server_stops_at_once(tmp_path, rows, parallel):
    class_csv = tmp_path / "class.csv"
    class_csv.write_text("student,question,answer\n" + "".join(f"s{i},w06-thu-4,{ANSWER} {i}\n"
                                                                for i in range(rows)))
    args = ["grade", str(class_csv), "--out", str(tmp_path / "marks"), "--parallel-answers", parallel]
    ran, seconds, at_signal, posts = interrupt_when_asked(args, tmp_path / "h")
    assert ran.returncode == ExitCode.INTERRUPTED, ran.stderr
    assert seconds < 3, seconds
    assert posts == at_signal  # no retry, no next answer
    assert ran.stderr.count("Interrupted") == 1 and "Traceback" not in ran.stderr, ran.stderr


def test_ctrl_c_in_grade_answer_against_a_hanging_server_stops_at_once(tmp_path):
    answer = tmp_path / "a.txt"
    answer.write_text(ANSWER)
    ran, seconds, at_signal, posts = interrupt_when_asked(
        ["grade-answer", "--question", "w06-thu-4", "--answer-file", str(answer)], tmp_path / "h")
    assert ran.returncode == ExitCode.INTERRUPTED, ran.stderr
    assert seconds < 3, seconds
    assert posts == at_signal
    assert ran.stderr.strip().splitlines() == ["Interrupted: nothing graded."], ran.stderr
