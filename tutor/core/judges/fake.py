"""A judge for unit tests: replays queued probabilities and records what it was asked.

From the CLI (`--backend fake`) it gives a stable pseudo-probability per (claim,
answer) and can be slowed with `TUTOR_FAKE_DELAY` seconds per claim, so tests of
orchestration (resuming a killed batch) need no model. `TUTOR_FAKE_FAIL`: an answer containing
this text (in any case) makes the judge fail (a backend error), for tests of how a failure is recorded.
"""

import hashlib
import os
import time
from collections import deque
from typing import TYPE_CHECKING

from tutor.core.errors import ExitCode, TutorError
from tutor.core.judges.base import JudgeRequest, messages_for
from tutor.core.signals import OnSignals, Provenance, Signals

if TYPE_CHECKING:
    from tutor.core.settings import Settings


class FakeJudge:
    name = "fake"
    mode = "logprobs"
    provenance: Provenance | None = None  # P(yes) alone: decided by plain P(yes)

    def __init__(self, answers: dict[str, float] | None = None, default: float | None = None,
                 record: bool = True):
        """`answers` maps a claim to its probability; other claims get `default`,
        or, when no default is given, a stable pseudo-probability of (claim, answer).
        `record` keeps every request and prompt for tests to inspect (off from the CLI, where
        a class of 50,000 answers would keep them all)."""
        self.record = record
        self.answers = dict(answers or {})
        self.default = default
        self.delay = float(os.environ.get("TUTOR_FAKE_DELAY", "0"))
        self.fail = os.environ.get("TUTOR_FAKE_FAIL", "")
        self.queue: deque[float] = deque()
        self.requests: list[JudgeRequest] = []
        self.prompts: list[list[dict[str, str]]] = []
        self.prefilled: list[JudgeRequest] = []

    @classmethod
    def from_settings(cls, settings: "Settings") -> "FakeJudge":
        return cls(record=False)

    def warm(self) -> None:
        """Nothing to load."""

    def enqueue(self, *probabilities: float) -> "FakeJudge":
        self.queue.extend(probabilities)
        return self

    def prefill(self, request: JudgeRequest) -> None:
        if self.record:
            self.prefilled.append(request)

    def judge(self, request: JudgeRequest, on_signals: OnSignals | None = None) -> list[Signals]:
        if self.record:
            self.requests.append(request)
        if self.fail and self.fail.lower() in request.answer.lower():
            raise TutorError("the fake judge failed on this answer (TUTOR_FAKE_FAIL)", ExitCode.BACKEND)
        results = []
        for claim in request.claims:
            if self.record:
                self.prompts.append(messages_for(request, claim))
            time.sleep(self.delay)
            if self.queue:
                results.append(self.queue.popleft())
            elif claim in self.answers:
                results.append(self.answers[claim])
            else:
                results.append(self._fallback(claim, request.answer))
            if on_signals:
                on_signals(len(results) - 1, Signals(results[-1]))
        return [Signals(p) for p in results]

    def _fallback(self, claim: str, answer: str) -> float:
        if self.default is not None:
            return self.default
        digest = hashlib.sha256(f"{claim}\n{answer}".encode()).digest()
        return digest[0] / 255
