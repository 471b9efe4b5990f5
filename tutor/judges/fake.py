"""A judge for unit tests: replays queued probabilities and records what it was asked."""

from collections import deque

from tutor.judges.base import JudgeRequest, messages_for


class FakeJudge:
    name = "fake"
    mode = "logprobs"

    def __init__(self, answers: dict[str, float] | None = None, default: float = 0.0):
        """`answers` maps a claim to its probability; other claims get `default`."""
        self.answers = dict(answers or {})
        self.default = default
        self.queue: deque[float] = deque()
        self.requests: list[JudgeRequest] = []
        self.prompts: list[list[dict[str, str]]] = []

    def enqueue(self, *probabilities: float) -> "FakeJudge":
        self.queue.extend(probabilities)
        return self

    def judge(self, request: JudgeRequest) -> list[float]:
        self.requests.append(request)
        results = []
        for claim in request.claims:
            self.prompts.append(messages_for(request, claim))
            if self.queue:
                results.append(self.queue.popleft())
            else:
                results.append(self.answers.get(claim, self.default))
        return results
