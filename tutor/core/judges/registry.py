"""The backends by name, imported lazily, and what lives once around every one of them:
construction from the settings, caching, retries, logging."""

import logging
import time
from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple, cast

from tutor.core.decide import Head
from tutor.core.errors import ExitCode, TransientJudgeError, TutorError
from tutor.core.judges.base import Judge, JudgeRequest, OnSignals, Signals

if TYPE_CHECKING:
    from tutor.core.judges.base import Backend
    from tutor.core.settings import Settings

__all__ = ["BACKENDS", "ReliableJudge", "backend_class", "judge_from_settings", "make_judge"]

log = logging.getLogger("tutor.judge")

T = TypeVar("T")
Args = TypeVarTuple("Args")

BACKENDS = {
    "local": "tutor.core.judges.local:LocalJudge",
    "openai": "tutor.core.judges.openai_api:OpenAIJudge",
    "fake": "tutor.core.judges.fake:FakeJudge",
}


def backend_class(name: str) -> "type[Backend]":
    try:
        module_name, _, attr = BACKENDS[name].partition(":")
    except KeyError:
        choices = ", ".join(sorted(BACKENDS))
        raise TutorError(f"unknown backend '{name}' (choose one of: {choices})") from None
    return cast("type[Backend]", getattr(import_module(module_name), attr))


class ReliableJudge:
    """Wraps a backend: an in-memory cache, retries with backoff, and timing logs."""

    def __init__(self, inner: Judge, retries: int = 3, backoff: float = 1.0):
        self.inner = inner
        self.retries = retries
        self.backoff = backoff
        self.cache: dict[JudgeRequest, list[Signals]] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def mode(self) -> str:
        return self.inner.mode

    @property
    def head(self) -> Head:
        return self.inner.head

    def warm(self) -> None:
        """Do the backend's one-off work (loading, checking the server) ahead of time."""
        self._with_retries(self.inner.warm)

    def forget(self) -> None:
        """Drop cached results, so the next requests really reach the backend (re-run checks)."""
        self.cache.clear()

    def judge(self, request: JudgeRequest, on_signals: OnSignals | None = None) -> list[Signals]:
        if request not in self.cache:
            start = time.perf_counter()
            self.cache[request] = self._with_retries(self.inner.judge, request, on_signals)
            log.info("judged %d claims in %.2fs", len(request.claims), time.perf_counter() - start)
        elif on_signals:
            for index, signals in enumerate(self.cache[request]):
                on_signals(index, signals)
        return self.cache[request]

    def prefill(self, request: JudgeRequest) -> None:
        """A hint: a failure here is left for the real request to report."""
        try:
            self.inner.prefill(request)
        except TutorError as exc:
            log.info("prefill skipped: %s", exc.message)

    def _with_retries(self, call: Callable[[*Args], T], *args: *Args) -> T:
        for attempt in range(self.retries + 1):
            try:
                return call(*args)
            except TransientJudgeError as exc:
                if attempt == self.retries:
                    raise TutorError(f"{exc.message} (gave up after {attempt + 1} tries)",
                                     ExitCode.BACKEND) from None
                log.warning("retrying after: %s", exc.message)
                time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")


def make_judge(backend: str = "local", **options: Any) -> ReliableJudge:
    """A backend built from explicit options (tests, scripts)."""
    return ReliableJudge(backend_class(backend)(**options))


def judge_from_settings(settings: "Settings") -> ReliableJudge:
    """The backend the settings name, built by the backend itself from them."""
    return ReliableJudge(backend_class(settings.backend).from_settings(settings))
