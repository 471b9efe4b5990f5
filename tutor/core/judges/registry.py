"""The backends by name, imported lazily, and what lives once around every one of them:
construction from the settings, caching, retries, logging."""

import logging
import threading
import time
from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple, cast

from tutor.core.errors import ExitCode, TransientJudgeError, TutorError
from tutor.core.judges.base import Judge, JudgeRequest
from tutor.core.signals import OnSignals, Provenance, Signals

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


# After this many answers in a row whose backend failed even after its retries (timeouts,
# connection errors, 5xx), the backend is not called again for the rest of the run.
BREAKER_AFTER = 3


class _GaveUp(TutorError):
    """A transient failure that outlived every retry: what the circuit breaker counts."""


class ReliableJudge:
    """Wraps a backend: an in-memory cache, retries with backoff, a circuit breaker, and
    timing logs."""

    def __init__(self, inner: Judge, retries: int = 3, backoff: float = 1.0,
                 breaker_after: int = BREAKER_AFTER):
        self.inner = inner
        self.retries = retries
        self.backoff = backoff
        self.cache: dict[JudgeRequest, list[Signals]] = {}
        self.breaker_after = breaker_after
        self.failures_in_a_row = 0
        self.broken: str | None = None  # why the backend is no longer called
        self._breaker = threading.Lock()
        self.cancelled = threading.Event()  # Ctrl-C: no new tries, no waiting for one

    def cancel(self) -> None:
        """Stop at once (Ctrl-C): no retry starts, a backoff ends, and a backend that can
        abandon its requests in flight (`cancel`) does."""
        self.cancelled.set()
        abandon = getattr(self.inner, "cancel", None)
        if callable(abandon):
            abandon()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def mode(self) -> str:
        return self.inner.mode

    @property
    def provenance(self) -> Provenance | None:
        return self.inner.provenance

    def warm(self) -> None:
        """Do the backend's one-off work (loading, checking the server) ahead of time."""
        self._with_retries(self.inner.warm)

    def forget(self) -> None:
        """Drop cached results, so the next requests really reach the backend (re-run checks)."""
        self.cache.clear()

    def judge(self, request: JudgeRequest, on_signals: OnSignals | None = None) -> list[Signals]:
        if request not in self.cache:
            start = time.perf_counter()
            self.cache[request] = self._guarded(request, on_signals)
            log.info("judged %d claims in %.2fs", len(request.claims), time.perf_counter() - start)
        elif on_signals:
            for index, signals in enumerate(self.cache[request]):
                on_signals(index, signals)
        return self.cache[request]

    def _guarded(self, request: JudgeRequest, on_signals: OnSignals | None) -> list[Signals]:
        """The backend's signals, unless it already failed `breaker_after` answers in a row:
        then one line at once, instead of minutes of timeouts per answer."""
        if self.broken:
            raise TutorError(self.broken, ExitCode.BACKEND)
        try:
            signals = self._with_retries(self.inner.judge, request, on_signals)
        except _GaveUp as exc:
            self._count_failure(exc.message)
            raise
        with self._breaker:
            self.failures_in_a_row = 0
        return signals

    def _count_failure(self, reason: str) -> None:
        with self._breaker:
            self.failures_in_a_row += 1
            if self.failures_in_a_row >= self.breaker_after and not self.broken:
                self.broken = (f"not sent: {self.name} failed {self.failures_in_a_row} answers in a row "
                               f"(last: {reason}); it is not called again in this run")
                log.warning("%s", self.broken)

    def prefill(self, request: JudgeRequest) -> None:
        """A hint: a failure here is left for the real request to report."""
        try:
            self.inner.prefill(request)
        except TutorError as exc:
            log.info("prefill skipped: %s", exc.message)

    def _with_retries(self, call: Callable[[*Args], T], *args: *Args) -> T:
        for attempt in range(self.retries + 1):
            if self.cancelled.is_set():
                raise TutorError("interrupted", ExitCode.INTERRUPTED)
            try:
                return call(*args)
            except TransientJudgeError as exc:
                if attempt == self.retries:
                    raise _GaveUp(f"{exc.message} (gave up after {attempt + 1} tries)",
                                  ExitCode.BACKEND) from None
                log.info("retrying after: %s", exc.message)  # the outcome, not each try, is the user's news
                self.cancelled.wait(self.backoff * 2**attempt)
        raise AssertionError("unreachable")


def make_judge(backend: str = "local", **options: Any) -> ReliableJudge:
    """A backend built from explicit options (tests, scripts)."""
    return ReliableJudge(backend_class(backend)(**options))


def judge_from_settings(settings: "Settings") -> ReliableJudge:
    """The backend the settings name, built by the backend itself from them."""
    return ReliableJudge(backend_class(settings.backend).from_settings(settings))
