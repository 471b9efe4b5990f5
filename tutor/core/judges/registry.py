"""The backends by name, imported lazily, and what lives once around every one of them:
construction from the settings, caching, retries, logging."""

import logging
import threading
import time
from collections import OrderedDict
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


# Answers whose signals are kept in memory. A local signal carries the probe's hidden state
# (1,536 floats, 12 KiB a claim, about 90 KiB an answer), so 256 answers hold at most about
# 23 MiB, whatever the size of the class.
CACHE_SIZE = 256


class RecentSignals:
    """The signals of the last `size` requests judged, least recently used dropped first.

    Why bounded: `tutor grade` has its own cache on disk (results.jsonl, keyed by answer, rubric,
    model and head), so a class graded again never reaches this one. What this one saves is a
    request repeated close by: two students' identical answers to a question (a batch judges
    them side by side, `by_question`), a session's answer judged again. Kept whole, it held the
    class's every hidden state (3,000 answers: about 260 MiB) to serve almost none of them.
    Several batch workers use it at once, hence the lock."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._kept: OrderedDict[JudgeRequest, list[Signals]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, request: JudgeRequest) -> list[Signals] | None:
        with self._lock:
            signals = self._kept.get(request)
            if signals is not None:
                self._kept.move_to_end(request)
            return signals

    def put(self, request: JudgeRequest, signals: list[Signals]) -> None:
        with self._lock:
            self._kept[request] = signals
            self._kept.move_to_end(request)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


class ReliableJudge:
    """Wraps a backend: a bounded in-memory cache (`RecentSignals`), retries with backoff, a
    circuit breaker, and timing logs."""

    def __init__(self, inner: Judge, retries: int = 3, backoff: float = 1.0,
                 breaker_after: int = BREAKER_AFTER, cache_size: int = CACHE_SIZE):
        self.inner = inner
        self.retries = retries
        self.backoff = backoff
        self.cache = RecentSignals(cache_size)
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
        signals = self.cache.get(request)
        if signals is None:
            start = time.perf_counter()
            signals = self._guarded(request, on_signals)
            self.cache.put(request, signals)
            log.info("judged %d claims in %.2fs", len(request.claims), time.perf_counter() - start)
        elif on_signals:
            for index, kept in enumerate(signals):
                on_signals(index, kept)
        return signals

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
