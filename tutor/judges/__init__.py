"""Judge backends, registered in one place and imported lazily.

A backend implements one method, `judge(request) -> list[Signals]`: for each claim
in the request, the model's raw signals (P(yes), and a hidden state where the backend
can read one), and names the `head` that turns them into probabilities (`tutor.decide`).
Caching, retries and logging live once, in `tutor.judging`.
"""

from importlib import import_module
from typing import TYPE_CHECKING, cast

from tutor.errors import TutorError

if TYPE_CHECKING:
    from tutor.judges.base import Backend

BACKENDS = {
    "local": "tutor.judges.local:LocalJudge",
    "openai": "tutor.judges.openai_api:OpenAIJudge",
    "fake": "tutor.judges.fake:FakeJudge",
}


def backend_class(name: str) -> "type[Backend]":
    try:
        module_name, _, attr = BACKENDS[name].partition(":")
    except KeyError:
        choices = ", ".join(sorted(BACKENDS))
        raise TutorError(f"unknown backend '{name}' (choose one of: {choices})") from None
    return cast("type[Backend]", getattr(import_module(module_name), attr))
