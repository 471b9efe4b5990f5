"""The OpenAI backend against a real llama_cpp.server on loopback, with the default GGUF."""

import subprocess
import sys
import threading
import time

import pytest

from tests.core.judges.server import ALIAS, free_port, llama_server
from tests.core.test_grader_model import INJECTION, REVERSED, STRONG
from tutor.core import model_store
from tutor.core.decide import PlainHead
from tutor.core.errors import ExitCode
from tutor.core.grader import grade
from tutor.core.judges.local import LocalJudge
from tutor.core.judges.registry import ReliableJudge, make_judge
from tutor.core.result import Band

pytestmark = pytest.mark.model

CASES = {
    "strong": ("w06-thu-4", STRONG["w06-thu-4"]),
    "reversed": ("w06-thu-4", REVERSED),
    "wrong": ("w06-mon-2", "Each fp16 parameter takes one byte, so a 70B model needs about 70 GB."),
    "injection": ("w06-thu-4", INJECTION),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "server.log"
    with llama_server(model_store.resolve(None), log) as (url, process):
        yield url, process


def openai_judge(url: str, model: str = ALIAS, retries: int = 3):
    judge = make_judge("openai", model=model, base_url=url, api_key=None, timeout=120)
    judge.retries, judge.backoff = retries, 0.2
    return judge


@pytest.fixture(scope="module")
def local_judge():
    """The API gives only P(yes), so the local backend is compared on the same decision rule."""
    return ReliableJudge(LocalJudge.load(model_store.resolve(None)))


def test_bands_agree_with_the_local_backend(bank, server, local_judge):
    """Same signals within float noise; the same band unless a probability sits at a threshold
    (the server evaluates each prompt whole, in other batch shapes)."""
    api = openai_judge(server[0])
    for name, (question, answer) in CASES.items():
        remote = grade(bank.get(question), answer, api)
        local = grade(bank.get(question), answer, local_judge, PlainHead())
        assert remote.status == "graded", remote.reason
        pairs = [(r, v) for r, v in zip(remote.verdicts, local.verdicts, strict=True) if v.p_yes is not None]
        assert all(abs(r.p_yes - v.p_yes) < 0.05 for r, v in pairs), name
        thresholds = PlainHead().thresholds
        borderline = any(abs(v.p_yes - thresholds.of(v.kind)) < 0.05 for _, v in pairs)
        assert remote.band == local.band or borderline, name
        if remote.mode != "none":
            assert remote.mode == "logprobs" and remote.model == ALIAS
    assert grade(bank.get("w06-thu-4"), STRONG["w06-thu-4"], api).band == Band.FULL


def run_cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "OPENAI_API_KEY": "sk-test-secret-9999", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "tutor", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_server_down_is_one_clear_line(tmp_path):
    answer = tmp_path / "a.txt"
    answer.write_text(STRONG["w06-thu-4"])
    url = f"http://127.0.0.1:{free_port()}/v1"
    result = run_cli("--backend", "openai", "--model", ALIAS, "--base-url", url, "grade-answer",
                     "--question", "w06-thu-4", "--answer-file", str(answer))
    assert result.returncode == ExitCode.BACKEND
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert url in result.stderr and "gave up" in result.stderr
    assert "sk-test" not in result.stderr + result.stdout


def test_wrong_model_name_is_one_clear_line(server, tmp_path):
    answer = tmp_path / "a.txt"
    answer.write_text(STRONG["w06-thu-4"])
    result = run_cli("--backend", "openai", "--model", "gpt-nope", "--base-url", server[0],
                     "grade-answer", "--question", "w06-thu-4", "--answer-file", str(answer))
    assert result.returncode == ExitCode.BACKEND
    assert result.stderr.strip() == (f"tutor: error: model 'gpt-nope' not found at {server[0]} "
                                     f"(it serves: {ALIAS})")


def test_server_killed_mid_request_gives_an_ungraded_grade(bank, tmp_path):
    with llama_server(model_store.resolve(None), tmp_path / "victim.log") as (url, process):
        judge = openai_judge(url, retries=1)
        judge.inner.warm()
        killer = threading.Timer(1.0, process.kill)
        killer.start()
        start = time.monotonic()
        result = grade(bank.get("w06-thu-6"), "Prefill is parallel; decode is one token at a time and "
                       "memory-bound because it reads all weights each step.", judge)
        killer.join()
    assert result.status == "ungraded" and result.score is None
    assert url in result.reason and "gave up after 2 tries" in result.reason
    assert time.monotonic() - start < 120


def test_batch_through_the_server_with_parallel_answers(server, tmp_path):
    import csv
    import json

    rows = [("ann", "w06-thu-4", STRONG["w06-thu-4"]), ("bob", "w06-thu-4", REVERSED),
            ("cy", "w06-mon-2", "About 70 GB."), ("dee", "w06-thu-4", INJECTION)]
    with (tmp_path / "class.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "question", "answer"])
        writer.writerows(rows)
    result = run_cli("--backend", "openai", "--model", ALIAS, "--base-url", server[0], "grade",
                     str(tmp_path / "class.csv"), "--out", str(tmp_path / "out"), "--parallel-answers", "3")
    assert result.returncode == 0, result.stderr
    assert "graded 4, skipped 0 (done before), " in result.stdout and "failed" not in result.stdout
    lines = [json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert [line["student"] for line in lines] == ["ann", "bob", "cy", "dee"]
    assert lines[0]["band"] == "full" and lines[3]["band"] == "fail"
