"""The benchmarks' llama.cpp runtime: the product's (`tutor.core.judges.llama_runtime`) with the
switches only measurements use. Each changes the arithmetic (and so, slightly, the grades) or
only counts it, so none of them is in the product (README "Speed"):

- `tokens_evaluated`: prompt tokens actually run through the model (segments and probe passes);
- `streams` > 1: the probes of up to `streams` claims decoded together, each in its own KV-cache
  sequence on a copy of the shared prefix;
- `line_segments`: each line of the answer its own segment, so finished lines are evaluated
  while the learner types;
- `from_scratch`: every probe's whole prompt evaluated alone, nothing cached (the baseline
  before the segment cache).

A benchmark's judge is `LocalJudge(BenchRuntime(path, …))`. Scripts in evals/ import this module
as `bench_runtime`, tests as `evals.bench_runtime`.
"""

from collections.abc import Generator
from pathlib import Path
from typing import Any

from tutor.core.judges.base import JudgeRequest
from tutor.core.judges.llama_runtime import STATE_BLOCK, LlamaRuntime
from tutor.core.signals import Signals


class BenchRuntime(LlamaRuntime):
    def __init__(self, model_path: Path, *, streams: int = 1, line_segments: bool = False,
                 from_scratch: bool = False, n_threads: int | None = None, block: int | None = STATE_BLOCK):
        self.streams = streams  # read by LlamaRuntime while it creates the context
        self.line_segments = line_segments
        self.from_scratch = from_scratch
        self.tokens_evaluated = 0
        self._line_ends: dict[int, bool] = {}
        super().__init__(model_path, n_threads, block)

    def _eval(self, tokens: list[int]) -> None:
        super()._eval(tokens)
        self.tokens_evaluated += len(tokens)

    def _decode(self, batch: Any) -> None:
        super()._decode(batch)
        self.tokens_evaluated += batch.n_tokens

    def _ends_line(self, token: int) -> bool:
        if token not in self._line_ends:
            self._line_ends[token] = self.llm.detokenize([token]).endswith(b"\n")
        return self._line_ends[token]

    def _cuts(self, prefix: list[int], question: str) -> list[int]:
        """The product's segments, and with `line_segments` one more after every line of the
        answer (the judge sees one sentence of the answer per line)."""
        cuts = super()._cuts(prefix, question)
        if not self.line_segments:
            return cuts
        start = min(self._question_length(question), len(prefix))
        lines = {i + 1 for i in range(start, len(prefix)) if self._ends_line(prefix[i])}
        return sorted(set(cuts) | lines)

    def probes(self, request: JudgeRequest) -> Generator[tuple[int, Signals]]:
        if not self.from_scratch:
            yield from super().probes(request)
            return
        for index, tokens in enumerate(self.prompts(request)):
            self.forget()
            self._eval(tokens)
            states = self.capture.take() if self.capture else None
            yield index, self._signals(-1, None if states is None else states[-1])
