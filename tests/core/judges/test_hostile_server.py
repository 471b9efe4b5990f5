"""Issue 27, items 2, 4 and 6: malformed logprobs, structured verdicts other than yes/no, and a
server that keeps failing. Each reply ends as an `ungraded` grade with one line naming the
server, never a traceback, a validation error's text nor a silent P(yes) = 0."""

import json
import math
import time

import pytest

from tests.core.judges.fake_server import Reply, completion, serve, top
from tests.edge.test_cli import assert_one_line_error, tutor
from tutor.core.decide import PlainHead
from tutor.core.errors import ExitCode, TransientJudgeError
from tutor.core.grader import asked_of, grade
from tutor.core.judges.fake import FakeJudge
from tutor.core.judges.openai_api import OpenAIJudge
from tutor.core.judges.registry import BREAKER_AFTER, ReliableJudge, make_judge
from tutor.teacher.batch.inputs import Submission
from tutor.teacher.batch.run import BatchRun

ANSWER = "GQA shares each K/V head across a group of query heads."

# Every shape of `logprobs` a broken or hostile server was seen to send, and its neighbours.
MALFORMED_LOGPROBS = {
    "NaN": top(("yes", math.nan), ("no", -1.0)),
    "Infinity": top(("yes", math.inf), ("no", -1.0)),
    "-Infinity only": top(("yes", -math.inf)),
    "1000": top(("yes", 1000.0), ("no", -1.0)),
    "positive 0.7": top(("yes", 0.7), ("no", -1.0)),
    "logprob as a word": top(("yes", "high"), ("no", -1.0)),
    "logprob null": top(("yes", None), ("no", -1.0)),
    "logprob a list": top(("yes", [-0.1]), ("no", -1.0)),
    "token null": top((None, -0.1), ("no", -1.0)),
    "token a number": top((1, -0.1), ("no", -1.0)),
    "token a dict": top(({"t": "yes"}, -0.1), ("no", -1.0)),
    "content a string": {"content": "yes"},
    "content a dict": {"content": {"token": "yes"}},
    "content a number": {"content": 7},
    "position a string": {"content": ["yes"]},
    "top_logprobs a dict": {"content": [{"token": "yes", "logprob": -0.1, "top_logprobs": {"yes": -0.1}}]},
    "top_logprobs a string": {"content": [{"token": "yes", "logprob": -0.1, "top_logprobs": "yes"}]},
    "candidate a list": {"content": [{"token": "yes", "logprob": -0.1, "top_logprobs": [["yes", -0.1]]}]},
}


def grade_with(reply: Reply, bank):
    fake = serve(reply)
    try:
        return grade(bank.get("w06-thu-4"), ANSWER, make_judge("openai", model="m", base_url=fake.url)), fake
    finally:
        fake.close()


def assert_one_line_reason(result, fake, *fragments: str):
    assert result.status == "ungraded" and result.score is None
    assert "\n" not in result.reason and fake.url in result.reason, result.reason
    assert "validation error" not in result.reason.lower() and "pydantic" not in result.reason.lower()
    for fragment in fragments:
        assert fragment in result.reason, result.reason


@pytest.mark.parametrize("logprobs", MALFORMED_LOGPROBS.values(), ids=MALFORMED_LOGPROBS.keys())
def test_malformed_logprobs_leave_the_answer_ungraded_naming_the_server(bank, logprobs):
    result, fake = grade_with(Reply(json.dumps(completion(logprobs)).encode()), bank)
    assert_one_line_reason(result, fake, "malformed logprobs")


def test_well_formed_logprobs_at_the_edges_are_graded(bank):
    """A log-probability of 0 (certain) and one a hair above 0 (server rounding) are fine."""
    result, _ = grade_with(Reply(json.dumps(completion(top(("yes", 0.0), ("no", -1e9)))).encode()), bank)
    assert result.status == "graded" and all(v.p_yes == 1.0 for v in result.by_kind("key_point"))
    result, _ = grade_with(Reply(json.dumps(completion(top(("no", 1e-5), ("yes", -30.0)))).encode()), bank)
    assert result.status == "graded" and all(v.p_yes == 0.0 for v in result.by_kind("key_point"))


def structured(content: object) -> bytes:
    """A server with no logprobs: the judge falls back to a JSON verdict."""
    return json.dumps(completion(None, content=content)).encode()  # type: ignore[arg-type]


@pytest.mark.parametrize("verdict, p_yes", [
    ("yes", 1.0), ("YES", 1.0), (" Yes ", 1.0), ("yes\n", 1.0), ("no", 0.0), ("No", 0.0), (" NO ", 0.0),
])
def test_a_structured_verdict_is_read_in_any_case(bank, verdict, p_yes):
    result, _ = grade_with(Reply(structured(json.dumps({"verdict": verdict}))), bank)
    assert result.status == "graded" and result.mode == "structured"
    assert {v.p_yes for v in result.by_kind("key_point")} == {p_yes}


@pytest.mark.parametrize("content, reason", [
    (json.dumps({"verdict": "maybe"}), "neither yes nor no"),
    (json.dumps({"verdict": "yess"}), "neither yes nor no"),
    (json.dumps({"verdict": ""}), "neither yes nor no"),
    (json.dumps({"verdict": None}), "not the JSON asked for"),
    (json.dumps({"verdict": 1}), "not the JSON asked for"),
    (json.dumps({"verdict": True}), "not the JSON asked for"),
    (json.dumps({"verdict": ["yes"]}), "not the JSON asked for"),
    (json.dumps({}), "not the JSON asked for"),
    (json.dumps(["yes"]), "not the JSON asked for"),
    ("yes", "not the JSON asked for"),
    (None, "not the JSON asked for"),
    (42, "not the JSON asked for"),
])
def test_a_structured_verdict_other_than_yes_or_no_is_ungraded_not_no(bank, content, reason):
    result, fake = grade_with(Reply(structured(content)), bank)
    assert_one_line_reason(result, fake, reason)


# --- item 6: a circuit breaker per backend and run ----------------------------------------


def batch(judge: ReliableJudge, bank, tmp_path, rows: int = 6) -> list[dict]:
    subs = [Submission(f"class.csv:{i + 2}", f"s{i}", "w06-thu-4", f"{ANSWER} ({i})") for i in range(rows)]
    return list(BatchRun(bank, judge, tmp_path, head=PlainHead()).grade_all(subs))


DRIPPING = Reply(json.dumps(completion(top(("yes", -0.1)))).encode(), drip=0.05)  # each read in time


@pytest.mark.parametrize("reply", [Reply(hang=True), Reply(b'{"error": "boom"}', status=500),
                                   Reply(b'{"error": "busy"}', status=503), DRIPPING],
                         ids=["hangs", "500", "503", "drips a byte at a time"])
def test_a_failing_server_is_not_called_again_after_n_answers_in_a_row(bank, tmp_path, reply):
    fake = serve(reply)
    try:
        judge = ReliableJudge(OpenAIJudge(model="m", base_url=fake.url, timeout=0.1), backoff=0.01)
        start = time.monotonic()
        lines = batch(judge, bank, tmp_path)
        seconds, posts = time.monotonic() - start, fake.posts
    finally:
        fake.close()
    assert [line.status for line in lines] == ["ungraded"] * 6
    reasons = [line.grade.reason for line in lines]
    assert all("gave up after 4 tries" in r for r in reasons[:BREAKER_AFTER]), reasons
    opened = f"not sent: m failed {BREAKER_AFTER} answers in a row"
    assert all(r.startswith(opened) for r in reasons[BREAKER_AFTER:])
    assert fake.url in reasons[-1] and "\n" not in reasons[-1]
    claims = len(asked_of(bank.get("w06-thu-4")))  # points, then each misconception's correction
    assert posts <= BREAKER_AFTER * 4 * claims  # nothing after the breaker opened
    assert seconds < 15


def test_a_refused_connection_opens_the_breaker_too(bank, tmp_path):
    from tests.core.judges.server import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    judge = ReliableJudge(OpenAIJudge(model="m", base_url=url, timeout=0.2), backoff=0.01)
    reasons = [line.grade.reason for line in batch(judge, bank, tmp_path, rows=5)]
    assert all("cannot reach" in r for r in reasons[:BREAKER_AFTER])
    assert all(r.startswith("not sent:") and "cannot reach" in r for r in reasons[BREAKER_AFTER:])


class Flaky(FakeJudge):
    """Fails (transiently, every retry) on the answers of the teams in `failing`."""

    def __init__(self, failing: set[int]):
        super().__init__(default=0.9)
        self.failing = failing
        self.calls = 0

    def judge(self, request, on_signals=None):
        self.calls += 1
        if int(request.answer.split()[1].rstrip(",")) in self.failing:  # "team 3, gqa …"
            raise TransientJudgeError("server hiccup")
        return super().judge(request, on_signals)


def team(i: int) -> str:
    return f"Team {i}: {ANSWER}"


def test_only_failures_in_a_row_open_the_breaker(bank):
    inner = Flaky({0, 1, 3, 4, 6, 7})  # two failures, a success, two, a success, two
    judge = ReliableJudge(inner, backoff=0)
    results = [grade(bank.get("w06-thu-4"), team(i), judge) for i in range(8)]
    assert [r.status for r in results] == ["ungraded", "ungraded", "graded"] * 2 + ["ungraded"] * 2
    assert judge.broken is None and inner.calls == 6 * 4 + 2


def test_the_breaker_opens_at_n_and_stops_calling(bank):
    inner = Flaky(set(range(BREAKER_AFTER + 3)))
    judge = ReliableJudge(inner, backoff=0)
    results = [grade(bank.get("w06-thu-4"), team(i), judge) for i in range(BREAKER_AFTER + 3)]
    assert inner.calls == BREAKER_AFTER * 4  # 4 tries each, then never again
    assert all(r.reason.startswith("not sent: fake failed") for r in results[BREAKER_AFTER:])
    assert all("server hiccup" in r.reason for r in results)


# --- red team R2: a /models reply that is no model list ------------------------------------

NOT_A_MODEL_LIST = {
    "no data": b'{"object":"list"}', "data a string": b'{"data":"m"}', "model without id": b'{"data":[{}]}',
    "id a number": b'{"data":[{"id":5}]}', "model null": b'{"data":[null]}', "null": b"null",
    "a list": b"[]", "data null": b'{"data":null}', "html": b"<html>hi</html>", "empty": b"",
    "ids a list": b'{"data":[{"id":["m"]}]}',
}


@pytest.mark.parametrize("models", NOT_A_MODEL_LIST.values(), ids=NOT_A_MODEL_LIST.keys())
def test_a_models_reply_that_is_no_model_list_is_one_line_naming_the_server(bank, models):
    result, fake = grade_with(Reply(json.dumps(completion(top(("yes", -0.1)))).encode(), models=models), bank)
    assert_one_line_reason(result, fake, "did not answer with a model list")
    assert fake.posts == 0  # no chat request to a server that lists no models


def test_a_models_reply_that_lists_other_models_names_them(bank):
    models = json.dumps({"data": [{"id": "other"}, {"id": "x", "extra": 1}]}).encode()
    result, fake = grade_with(Reply(b"", models=models), bank)
    assert_one_line_reason(result, fake, "model 'm' not found", "other, x")


@pytest.mark.parametrize("models", [b'{"object":"list"}', b"<html>hi</html>", b'{"data":[{"id":5}]}'])
@pytest.mark.parametrize("command", [["grade-answer", "--question", "w06-thu-4", "--answer-file", "-"],
                                     ["ask", "w06-thu-4"]])
def test_the_cli_says_one_line_and_exits_4_for_a_models_reply_that_is_no_list(models, command):
    fake = serve(Reply(b"", models=models))
    try:
        result = tutor("--backend", "openai", "--model", "m", "--base-url", fake.url, *command,
                       stdin="GQA groups\n")
    finally:
        fake.close()
    assert_one_line_error(result, ExitCode.BACKEND, fake.url, "did not answer with a model list")


# --- red team R17 and R18: logprobs that underflow, verdicts that contradict themselves -------

@pytest.mark.parametrize("candidates", [
    (("yes", -800.0), ("no", -800.0)), (("yes", -800.0),), (("no", -1e4),), (("Yes", -900.0), ("no", -746.0)),
])
def test_yes_and_no_logprobs_that_underflow_are_ungraded_naming_the_server(bank, candidates):
    result, fake = grade_with(Reply(json.dumps(completion(top(*candidates))).encode()), bank)
    assert_one_line_reason(result, fake, "underflow")


def test_top_tokens_with_neither_yes_nor_no_name_the_server(bank):
    reply = Reply(json.dumps(completion(top(("maybe", -0.1), ("The", -2.0)))).encode())
    result, fake = grade_with(reply, bank)
    assert_one_line_reason(result, fake, "neither yes nor no", "'maybe'")


def test_logprobs_at_the_edge_of_underflow_are_still_graded(bank):
    result, _ = grade_with(Reply(json.dumps(completion(top(("yes", -800.0), ("no", -1.0)))).encode()), bank)
    assert result.status == "graded" and {v.p_yes for v in result.by_kind("key_point")} == {0.0}


@pytest.mark.parametrize("content", [
    '{"verdict":"no","verdict":"yes"}', '{"verdict":"yes","verdict":"no"}',
    '{"verdict":"yes","verdict":"yes"}',
    '{"verdict":"no","Verdict":"yes"}', '{"verdict":"no"," verdict":"yes"}',
    '{"verdict":"yes","why":{"a":1,"a":2}}',
])
def test_a_verdict_with_a_key_given_twice_is_ungraded(bank, content):
    result, fake = grade_with(Reply(structured(content)), bank)
    assert_one_line_reason(result, fake, "not the JSON asked for")
