"""Retries, caching and error mapping around a backend, with a scripted fake."""

import pytest

from tutor.core.errors import ExitCode, TransientJudgeError, TutorError
from tutor.core.judges.base import JudgeRequest
from tutor.core.judges.fake import FakeJudge
from tutor.core.judges.registry import CACHE_SIZE, ReliableJudge


class Flaky(FakeJudge):
    def __init__(self, failures: int):
        super().__init__(default=0.5)
        self.failures = failures
        self.calls = 0

    def judge(self, request, on_signals=None):
        self.calls += 1
        if self.calls <= self.failures:
            raise TransientJudgeError("cannot reach http://x/v1 (Connection error.)")
        return super().judge(request, on_signals)

    def warm(self):
        self.judge(JudgeRequest("q", "a", ()))


REQUEST = JudgeRequest("q", "an answer", ("c1", "c2"))


def test_transient_errors_are_retried_then_succeed():
    inner = Flaky(failures=2)
    judge = ReliableJudge(inner, retries=3, backoff=0)
    assert [s.p_yes for s in judge.judge(REQUEST)] == [0.5, 0.5] and inner.calls == 3


def test_giving_up_says_so_in_one_line():
    judge = ReliableJudge(Flaky(failures=9), retries=2, backoff=0)
    with pytest.raises(TutorError) as error:
        judge.judge(REQUEST)
    assert error.value.message == "cannot reach http://x/v1 (Connection error.) (gave up after 3 tries)"
    assert error.value.exit_code == ExitCode.BACKEND


def test_warm_is_retried_too():
    inner = Flaky(failures=1)
    ReliableJudge(inner, retries=1, backoff=0).warm()
    assert inner.calls == 2


def test_identical_requests_are_judged_once():
    inner = FakeJudge(default=0.3)
    judge = ReliableJudge(inner)
    judge.judge(REQUEST)
    judge.judge(REQUEST)
    assert len(inner.requests) == 1


def test_the_cache_keeps_at_most_its_size_and_drops_the_least_recently_used():
    inner = FakeJudge(default=0.3)
    judge = ReliableJudge(inner, cache_size=3)
    requests = [JudgeRequest("q", f"answer {n}", ("c1",)) for n in range(10)]
    for request in requests:
        judge.judge(request)
        assert len(judge.cache) <= 3
    assert len(judge.cache) == 3 and len(inner.requests) == 10
    judge.judge(requests[7])  # still kept: served from the cache, and now the most recent
    assert len(inner.requests) == 10
    judge.judge(requests[0])  # dropped long ago: judged again, which drops answer 8
    judge.judge(requests[7])
    judge.judge(requests[8])
    assert [r.answer for r in inner.requests[10:]] == ["answer 0", "answer 8"]


def test_a_class_of_any_size_keeps_the_default_bound():
    judge = ReliableJudge(FakeJudge(default=0.3, record=False))
    for n in range(CACHE_SIZE + 50):
        judge.judge(JudgeRequest("q", f"answer {n}", ("c1",)))
    assert len(judge.cache) == CACHE_SIZE


def test_non_transient_errors_are_not_retried():
    class Broken(FakeJudge):
        calls = 0

        def judge(self, request, on_signals=None):
            Broken.calls += 1
            raise TutorError("model 'x' not found")

    with pytest.raises(TutorError, match="not found"):
        ReliableJudge(Broken(), retries=3, backoff=0).judge(REQUEST)
    assert Broken.calls == 1


def test_every_backend_keeps_the_judge_contract():
    from tutor.core.judges.registry import BACKENDS, backend_class

    for name in BACKENDS:
        backend = backend_class(name)
        members = ("from_settings", "warm", "judge")
        assert all(callable(getattr(backend, member, None)) for member in members), name


def test_the_backend_the_settings_name_is_built_from_them(monkeypatch, tmp_path):
    from tutor.core.judges.openai_api import OpenAIJudge
    from tutor.core.judges.registry import judge_from_settings
    from tutor.core.settings import load_settings

    monkeypatch.setenv("TUTOR_HOME", str(tmp_path))
    settings, _ = load_settings({"backend": "fake"})
    assert isinstance(judge_from_settings(settings).inner, FakeJudge)
    settings, _ = load_settings({"backend": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1",
                                 "timeout": 7, "parallel_claims": 3})
    inner = judge_from_settings(settings).inner
    assert isinstance(inner, OpenAIJudge)
    assert (inner.name, inner.client.timeout, inner.parallel_claims) == ("m", 7, 3)
