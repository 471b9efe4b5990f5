"""Issue 27 through the real CLI: a server's malformed logprobs and verdicts (items 2, 4) in
`grade-answer`, `ask` and `grade`, and the API-key policy's warning on stderr (item 5)."""

import csv
import json
import math

import pytest

from tests.core.judges.fake_server import Reply, completion, serve, top
from tests.edge.test_cli import tutor
from tutor.core.errors import ExitCode

ANSWER = "GQA shares each K/V head across a group of query heads."
REPLIES = {
    "NaN": completion(top(("yes", math.nan), ("no", -1.0))),
    "1000": completion(top(("yes", 1000.0), ("no", -1.0))),
    "token null": completion(top((None, -0.1), ("no", -1.0))),
    "content a string": completion({"content": "yes"}),
    "top_logprobs a dict": completion({"content": [{"token": "yes", "logprob": -0.1,
                                                    "top_logprobs": {"yes": -0.1}}]}),
    "verdict maybe": completion(None, content=json.dumps({"verdict": "maybe"})),
    "verdict null": completion(None, content=json.dumps({"verdict": None})),
}


@pytest.fixture(params=REPLIES.values(), ids=REPLIES.keys())
def server(request):
    fake = serve(Reply(json.dumps(request.param).encode()))
    yield fake
    fake.close()


def openai(fake, *args: str, stdin: str = ""):
    return tutor("--backend", "openai", "--model", "m", "--base-url", fake.url, *args, stdin=stdin,
                 env={"OPENAI_API_KEY": None})


def assert_clean(text: str) -> None:
    assert "Traceback" not in text and "validation error" not in text.lower() and "pydantic" not in text


def test_grade_answer_reports_the_server_in_one_line(server):
    result = openai(server, "grade-answer", "--question", "w06-thu-4", "--answer-file", "-", "--json",
                    stdin=ANSWER)
    assert result.returncode == ExitCode.BACKEND
    grade = json.loads(result.stdout)
    assert grade["status"] == "ungraded" and server.url in grade["reason"] and "\n" not in grade["reason"]
    assert_clean(result.stdout + result.stderr)


def test_ask_reports_the_server_in_one_line(server):
    result = openai(server, "ask", "w06-thu-4", stdin=f"{ANSWER}\n.\n")
    assert server.url in " ".join(result.stdout.split()) or server.url in result.stderr
    assert_clean(result.stdout + result.stderr)


def test_grade_writes_one_line_naming_the_server_in_problems_csv(server, tmp_path):
    answers = tmp_path / "class.csv"
    other = "MQA keeps one K/V head for all query heads."
    answers.write_text(f"student,question,answer\nann,w06-thu-4,{ANSWER}\nbob,w06-thu-4,{other}\n")
    result = openai(server, "grade", str(answers), "--out", str(tmp_path / "marks"))
    assert result.returncode == ExitCode.PROBLEMS, result.stderr
    with (tmp_path / "marks" / "problems.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2
    for row in rows:
        reason = " ".join(row.values())
        assert server.url in reason and "\n" not in reason
        assert_clean(reason)


# --- item 5: the key's policy, on stderr ----------------------------------------------------


@pytest.fixture
def proxy():
    """A plain-HTTP "remote" server reached through a proxy on 127.0.0.1, so no network is
    needed: the proxy sees each request's full URL and its Authorization header."""
    fake = serve(Reply(json.dumps(completion(top(("yes", -0.05), ("no", -3.0)))).encode()))
    yield fake
    fake.close()


def through(proxy, base_url: str, key: str | None):
    env = {"HTTP_PROXY": proxy.url.removesuffix("/v1"), "http_proxy": None, "NO_PROXY": None,
           "no_proxy": None, "OPENAI_API_KEY": key}
    return tutor("--backend", "openai", "--model", "m", "--base-url", base_url, "grade-answer",
                 "--question", "w06-thu-4", "--answer-file", "-", stdin=ANSWER, env=env)


@pytest.mark.parametrize("host", ["grader.example.net", "10.1.2.3", "[fd00::1]"])
def test_a_key_sent_in_clear_to_another_host_is_warned_of_once_on_stderr(proxy, host):
    result = through(proxy, f"http://{host}:8000/v1", key="sk-secret-27")
    assert result.returncode == ExitCode.OK, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("tutor: warning:")]
    assert len(warnings) == 1 and "plain HTTP" in warnings[0] and host.strip("[]") in warnings[0]
    assert "sk-secret-27" not in result.stderr + result.stdout
    # the policy: the key is sent to the server named, once warned
    assert {auth for path, auth in proxy.seen} == {"Bearer sk-secret-27"}
    assert all(path.startswith("http://") and host.strip("[]") in path for path, _ in proxy.seen)


@pytest.mark.parametrize("base_url, key", [
    ("http://grader.example.com:8000/v1", None),  # no key: nothing to leak
    ("http://localhost:8000/v1", "sk-x"), ("http://127.0.0.1:8000/v1", "sk-x"),
    ("http://127.0.0.2:8000/v1", "sk-x"), ("http://[::1]:8000/v1", "sk-x"),
])
def test_no_warning_where_no_key_leaves_the_machine(proxy, base_url, key):
    result = through(proxy, base_url, key)
    assert "tutor: warning" not in result.stderr
