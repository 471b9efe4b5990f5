"""What an OpenAI-compatible server may answer besides a chat completion: each ends as an
`ungraded` grade with a one-line reason, never a traceback nor a silent P(yes) = 0."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tutor.core.grader import grade
from tutor.core.judges.openai_api import OpenAIJudge
from tutor.core.judges.registry import make_judge

ANSWER = "GQA shares each K/V head across a group of query heads."
MODELS = {"object": "list", "data": [{"id": "m", "object": "model", "created": 0, "owned_by": "t"}]}


def completion(top: list[tuple[str, float]]) -> dict:
    logprobs = {"content": [{"token": top[0][0], "logprob": top[0][1], "bytes": None,
                             "top_logprobs": [{"token": t, "logprob": p, "bytes": None} for t, p in top]}]}
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "length", "logprobs": logprobs,
                         "message": {"role": "assistant", "content": top[0][0]}}]}


def serve(body: bytes, content_type: str):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            self._send(json.dumps(MODELS).encode(), "application/json")

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._send(body, content_type)

        def _send(self, payload: bytes, kind: str):
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("body, content_type, reason", [
    (b"<html><body>502 Bad Gateway</body></html>", "text/html", "did not answer with a chat completion"),
    (b'{"choices": [', "application/json", "unreadable body"),
    (json.dumps({**completion([("yes", -0.1)]), "choices": []}).encode(), "application/json",
     "did not answer with a chat completion"),
    (json.dumps(completion([("Sure", -0.1), ("The", -2.0)])).encode(), "application/json",
     "neither yes nor no"),
])
def test_a_reply_that_is_no_verdict_leaves_the_answer_ungraded(bank, body, content_type, reason):
    server = serve(body, content_type)
    try:
        judge = make_judge("openai", model="m", base_url=f"http://127.0.0.1:{server.server_port}/v1")
        result = grade(bank.get("w06-thu-4"), ANSWER, judge)
    finally:
        server.shutdown()
    assert result.status == "ungraded" and result.score is None
    assert reason in result.reason and "\n" not in result.reason


def test_a_real_verdict_through_the_same_server_is_graded(bank):
    server = serve(json.dumps(completion([("yes", -0.05), ("no", -3.0)])).encode(), "application/json")
    try:
        judge = make_judge("openai", model="m", base_url=f"http://127.0.0.1:{server.server_port}/v1")
        result = grade(bank.get("w06-thu-4"), ANSWER, judge)
    finally:
        server.shutdown()
    assert result.status == "graded" and all(v.p_yes and v.p_yes > 0.9 for v in result.by_kind("key_point"))


@pytest.mark.parametrize("base_url, warned", [
    ("http://grader.example.org/v1", True),
    ("https://grader.example.org/v1", False),
    ("http://127.0.0.1:8080/v1", False),
    ("http://localhost:8080/v1", False),
])
def test_a_key_about_to_cross_the_network_in_clear_is_warned_of(caplog, base_url, warned):
    with caplog.at_level(logging.WARNING, logger="tutor.judge"):
        OpenAIJudge(model="m", base_url=base_url, api_key="sk-secret")
    assert ("plain HTTP" in caplog.text) is warned
    assert "sk-secret" not in caplog.text
