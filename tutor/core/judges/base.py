"""The one interface every judge backend implements."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tutor.core.answer import judge_form
from tutor.core.judge_prompts import prompt
from tutor.core.signals import OnSignals, Provenance, Signals

if TYPE_CHECKING:
    from tutor.core.settings import Settings


@dataclass(frozen=True)
class JudgeRequest:
    """One answer to judge against several claims; the answer is untrusted text."""

    question: str
    answer: str
    claims: tuple[str, ...]


class Judge(Protocol):
    """What every backend promises its callers.

    Thread safety: `judge` and `warm` may be called from several threads at once (batch
    workers, a session warming the model while the learner types); a backend that cannot
    run requests in parallel serialises them itself (the local llama.cpp context does)."""

    @property
    def name(self) -> str:
        """The model, for grades and caches."""
        ...

    @property
    def mode(self) -> str:
        """"logprobs" or "structured"."""
        ...

    @property
    def provenance(self) -> Provenance | None:
        """Which signals it gives (model file, captured layer), so the code that builds the
        judge can choose a head fitted on them (`tutor.core.decide.head_for`); None for a
        backend that gives P(yes) alone, which only plain P(yes) with thresholds can decide."""
        ...

    def warm(self) -> None:
        """The one-off work (loading the model, checking the server) done now; idempotent."""
        ...

    def judge(self, request: JudgeRequest, on_signals: OnSignals | None = None) -> list[Signals]:
        """The model's signals for each claim, in order; `on_signals` hears each claim's as soon
        as it is known (in any order, and again if a request is retried)."""
        ...

    def prefill(self, request: JudgeRequest) -> None:
        """Work that can be done before the answer is finished (`request.answer` is what was
        written so far): a later `judge` call then has less left to do. Never changes a result."""
        ...


class Backend(Judge, Protocol):
    """A judge the registry can build (`tutor.core.judges.registry.BACKENDS`)."""

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Backend":
        """The backend built from the effective settings (`tutor.core.settings.Settings`)."""
        ...


def fence(answer: str) -> str:
    """Neutralise what in the answer could close our quote fence or fake chat-template tokens."""
    return answer.replace('"""', '"“"').replace("<|", "‹|").replace("|>", "|›")


def _as_clause(claim: str) -> str:
    """'In MQA, …' reads as '… say that in MQA, …'; acronyms ('GQA …') keep their case."""
    return claim[0].lower() + claim[1:] if claim[1:2].islower() else claim


def numbered(claims: tuple[str, ...]) -> str:
    return "\n".join(f"{n}. {claim}" for n, claim in enumerate(claims, 1))


def messages_for(request: JudgeRequest, claim: str) -> list[dict[str, str]]:
    """Chat messages for one probe. Everything before the claim is shared by all probes. The
    answer is shown in its judge form (`judge_form`): the same words and separations, however
    written. A prompt folder may also list every claim before the answer (`{claims}`) and ask
    by number (`{number}`); the shipped prompts name the claim in the probe."""
    answer_block = prompt("judge_answer").format(question=request.question, claims=numbered(request.claims),
                                                 answer=fence(judge_form(request.answer)))
    probe = prompt("judge_probe").format(claim=_as_clause(claim), statement=claim,
                                         number=request.claims.index(claim) + 1)
    return [
        {"role": "system", "content": prompt("judge_system").strip()},
        {"role": "user", "content": answer_block + probe.strip()},
    ]
