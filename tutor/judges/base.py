"""The one interface every judge backend implements."""

from dataclasses import dataclass
from functools import cache
from typing import Protocol

from tutor import paths


@dataclass(frozen=True)
class JudgeRequest:
    """One answer to judge against several claims; the answer is untrusted text."""

    question: str
    answer: str
    claims: tuple[str, ...]


class Judge(Protocol):
    name: str  # the model, for grades and caches
    mode: str  # "logprobs" or "structured"

    def judge(self, request: JudgeRequest) -> list[float]:
        """P(the answer states the claim), one per claim, in order."""
        ...


@cache
def prompt(name: str) -> str:
    return (paths.prompts_dir() / f"{name}.md").read_text(encoding="utf-8")


def fence(answer: str) -> str:
    """Neutralise anything in the answer that could close or fake our markers."""
    return answer.replace("<answer>", "‹answer›").replace("</answer>", "‹/answer›")


def messages_for(request: JudgeRequest, claim: str) -> list[dict[str, str]]:
    """Chat messages for one probe. Everything before the claim is shared by all probes."""
    answer_block = prompt("judge_answer").format(question=request.question,
                                                 answer=fence(request.answer))
    probe = prompt("judge_probe").format(claim=claim)
    return [
        {"role": "system", "content": prompt("judge_system").strip()},
        {"role": "user", "content": answer_block + probe.strip()},
    ]
