"""What lives once around every backend: construction, caching, retries, logging."""

import logging
import time

from tutor.decide import Head
from tutor.errors import ExitCode, TutorError
from tutor.judges import backend_class
from tutor.judges.base import Judge, JudgeRequest, Signals

log = logging.getLogger("tutor.judge")


class TransientJudgeError(TutorError):
    """A failure worth retrying (rate limit, 5xx, dropped connection)."""

    def __init__(self, message: str):
        super().__init__(message, ExitCode.BACKEND)


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
        warm = getattr(self.inner, "warm", None)
        if warm:
            self._with_retries(warm)

    def forget(self) -> None:
        """Drop cached results, so the next requests really reach the backend (re-run checks)."""
        self.cache.clear()

    def judge(self, request: JudgeRequest) -> list[Signals]:
        if request not in self.cache:
            start = time.perf_counter()
            self.cache[request] = self._with_retries(self.inner.judge, request)
            log.info("judged %d claims in %.2fs", len(request.claims), time.perf_counter() - start)
        return self.cache[request]

    def _with_retries(self, call, *args):
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


def make_judge(backend: str = "local", **options) -> ReliableJudge:
    return ReliableJudge(backend_class(backend)(**options))
