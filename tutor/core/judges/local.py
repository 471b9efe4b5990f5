"""The local judge: the judge protocol over a llama.cpp runtime (`llama_runtime.py`), and the
work done before the learner presses Enter.

Grading is prefill-bound on a CPU, so as much of it as possible is done while the learner
reads and types:

- the instructions and the question are evaluated while the question is on screen
  (`prefill`), and stay cached in the runtime's segments;
- while the learner types, each finished line is followed by a grade of the answer as it
  stands (`prefill` again, "work ahead"): if they submit it as it is, the grade is ready or
  under way; if they type on, that work stops at the next probe.

The work ahead is the same work as a `judge` call, so it never changes a result.
"""

import threading
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.core.judges.base import JudgeRequest
from tutor.core.judges.llama_runtime import STATE_BLOCK, LlamaRuntime
from tutor.core.signals import OnSignals, Signals

if TYPE_CHECKING:
    from tutor.core.settings import Settings


class _Interrupted(Exception):
    """Work ahead was stopped: a grade for other text needs the model."""


class LocalJudge:
    """A `Judge` on one llama.cpp runtime, which it serialises: one answer at a time, and
    work ahead that a grade of other text stops."""

    mode = "logprobs"

    def __init__(self, runtime: LlamaRuntime):
        self.runtime = runtime
        self.name = runtime.name
        self.provenance = runtime.provenance
        self._judged: tuple[JudgeRequest, list[Signals]] | None = None  # the last answer judged ahead
        self._ahead: JudgeRequest | None = None  # the answer being judged ahead, if any
        self._interrupt = threading.Event()
        self._relay = threading.Lock()  # guards the work ahead's progress and its listener
        self._heard: dict[int, Signals] = {}  # the work ahead's signals so far
        self._listener: OnSignals | None = None  # a grade waiting on the work ahead
        self._lock = threading.Lock()  # the runtime: one caller at a time

    @classmethod
    def load(cls, model_path: Path, n_threads: int | None = None,
             block: int | None = STATE_BLOCK, gpu_layers: int | None = None) -> "LocalJudge":
        """The judge on the model at `model_path` (see `LlamaRuntime` for the options)."""
        return cls(LlamaRuntime(model_path, n_threads, block, gpu_layers))

    @classmethod
    def from_settings(cls, settings: "Settings") -> "LocalJudge":
        from tutor.core.model_store import resolve

        return cls.load(resolve(settings.model))

    def judge(self, request: JudgeRequest, on_signals: OnSignals | None = None) -> list[Signals]:
        """One answer at a time: a llama.cpp context is not thread safe, so concurrent callers
        (`tutor grade --parallel-answers N`) queue here instead of corrupting it. An answer
        already judged ahead (`prefill`) is answered from that work, which is the same work."""
        hear = on_signals or (lambda index, signals: None)
        joined = self._join_ahead(request, hear)
        with self._lock:
            self._listener = None
            if self._judged and self._judged[0] == request:
                for index, signals in enumerate(self._judged[1]) if not joined else []:
                    hear(index, signals)
                return self._judged[1]
            return self._judge(request, hear)

    def _join_ahead(self, request: JudgeRequest, hear: OnSignals) -> bool:
        """Work ahead on this very answer: hear its verdicts as they come (True). Work ahead on
        other text: stop it at the next probe (False)."""
        with self._relay:
            if self._ahead is None:
                return False
            if self._ahead != request:
                self._interrupt.set()
                return False
            self._listener = hear
            heard = dict(self._heard)
        for index, signals in heard.items():
            hear(index, signals)
        return True

    def _relay_signals(self, index: int, signals: Signals) -> None:
        with self._relay:
            self._heard[index] = signals
            listener = self._listener
        if listener:
            listener(index, signals)

    def prefill(self, request: JudgeRequest) -> None:
        """Evaluate the segments of the prompt that more text at the end of the answer cannot
        change (the instructions, the question, the finished lines of the answer), then judge
        the answer as it stands: if the learner submits it as it is, the grade is ready. That
        second part stops at the next round of probes when a `judge` call for other text comes."""
        stable = self.runtime.stable_prefix(request)
        with self._lock:
            if stable:
                self.runtime.load_prefix(stable, request.question)
            if request.answer.strip() and not (self._judged and self._judged[0] == request):
                self._judge_ahead(request)

    def _judge_ahead(self, request: JudgeRequest) -> None:
        with self._relay:
            self._ahead, self._heard = request, {}
            self._interrupt.clear()
        try:
            self._judged = (request, self._judge(request, self._relay_signals))
        except _Interrupted:
            pass
        finally:
            with self._relay:
                self._ahead = None

    def _judge(self, request: JudgeRequest, on_signals: OnSignals) -> list[Signals]:
        """The runtime's probes, each heard as it finishes; work ahead stops between probes."""
        results: dict[int, Signals] = {}
        with closing(self.runtime.probes(request)) as probes:  # stopped: back to the shared prefix
            for index, signals in probes:
                results[index] = signals
                on_signals(index, signals)
                if self._ahead is not None and self._interrupt.is_set():
                    raise _Interrupted
        return [results[i] for i in range(len(request.claims))]

    def forget(self) -> None:
        """Drop everything cached: the next request is evaluated from scratch."""
        with self._lock:
            self.runtime.forget()

    def warm(self) -> None:
        """Evaluate the shared instructions now (e.g. while the learner is typing)."""
        with self._lock:
            self.runtime.warm()
