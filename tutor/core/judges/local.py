"""The local judge: a GGUF model through llama-cpp-python, read by next-token probability.

Grading is prefill-bound on a CPU, so the work is arranged to evaluate as few
tokens as possible: the system instructions are evaluated once per process,
question + answer once per answer, and each claim's probe (~40 tokens) on top,
rewinding the KV cache to the shared prefix between probes. Nothing is generated:
one forward pass per claim gives P(yes) from the next-token distribution.
"""

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tutor.core.decide import head_for
from tutor.core.errors import ExitCode, TutorError
from tutor.core.judges.base import JudgeRequest, Signals, messages_for
from tutor.core.judges.capture import BlockCapture, context_with_callback
from tutor.core.model_store import sha256_of

if TYPE_CHECKING:
    from tutor.core.settings import Settings

STATE_BLOCK = 20  # of 28: the block whose output feeds the judge head (research/judge.md §2.1)
YES = ("yes", "Yes", "YES", " yes", " Yes")
NO = ("no", "No", "NO", " no", " No")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def common_prefix_length(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class LocalJudge:
    mode = "logprobs"

    def __init__(self, model_path: Path, n_ctx: int = 2048, n_threads: int | None = None,
                 reuse_prefix: bool = True, block: int | None = STATE_BLOCK, head: str | None = None):
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        threads = n_threads or available_cores()
        self.capture = BlockCapture(block) if block is not None else None
        self.layer = f"l_out-{block}" if block is not None else None
        try:
            with context_with_callback(self.capture.callback if self.capture else None):
                self.llm = Llama(model_path=str(model_path), n_ctx=n_ctx, n_batch=512,
                                 n_threads=threads, n_threads_batch=threads, logits_all=False,
                                 seed=0, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise TutorError(f"cannot load model {model_path}: {exc}", ExitCode.MODEL) from None
        if self.capture:
            self.capture.width = self.llm.n_embd()
        self.head = head_for(head, sha256_of(Path(model_path)), self.layer)
        self.name = Path(model_path).stem
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise TutorError(f"model {model_path} has no chat template", ExitCode.MODEL)
        eos = self.llm.detokenize([self.llm.token_eos()]).decode(errors="ignore")
        self.formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token="")
        self.yes_ids = self._single_tokens(YES)
        self.no_ids = self._single_tokens(NO)
        self.system_length = self._system_length()
        self._question_lengths: dict[str, int] = {}
        self.reuse_prefix = reuse_prefix  # False only for benchmarks: every probe from scratch
        self.tokens_evaluated = 0  # for benchmarks: prompt tokens actually run through the model
        self._lock = threading.Lock()

    def _single_tokens(self, words: tuple[str, ...]) -> list[int]:
        ids = {tuple(self.llm.tokenize(w.encode(), add_bos=False, special=False)) for w in words}
        return sorted(t[0] for t in ids if len(t) == 1)

    def tokens_for(self, request: JudgeRequest, claim: str) -> list[int]:
        messages: Any = messages_for(request, claim)  # llama_cpp's TypedDicts are these dicts
        prompt = self.formatter(messages=messages).prompt
        return self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def _system_length(self) -> int:
        """Tokens shared by every prompt (the instructions): cached once per process."""
        a = self.tokens_for(JudgeRequest("q", "a", ("c",)), "c")
        b = self.tokens_for(JudgeRequest("x", "y", ("z",)), "z")
        return common_prefix_length(a, b)

    def _eval(self, tokens: list[int]) -> None:
        self.llm.eval(tokens)
        self.tokens_evaluated += len(tokens)

    def _question_length(self, question: str) -> int:
        """Tokens before the answer starts: shared by all answers to one question."""
        if question not in self._question_lengths:
            a = self.tokens_for(JudgeRequest(question, "a", ("c",)), "c")
            b = self.tokens_for(JudgeRequest(question, "b", ("c",)), "c")
            self._question_lengths[question] = common_prefix_length(a, b)
        return self._question_lengths[question]

    def _load_prefix(self, prefix: list[int], question: str) -> None:
        """Bring the context to `prefix`, reusing what is cached at segment boundaries.

        The prompt is always evaluated in the same segments (instructions | question |
        answer), one `eval` call each, whether or not a segment was cached, so that the
        arithmetic, and therefore every probability, is bit-identical from run to run."""
        cuts = sorted({min(self.system_length, len(prefix)),
                       min(self._question_length(question), len(prefix)), len(prefix)})
        cached = self.llm.input_ids[: self.llm.n_tokens].tolist()
        keep = 0
        for cut in cuts[:-1]:
            if cached[:cut] != prefix[:cut]:
                break
            keep = cut
        self.llm.n_tokens = keep
        if keep == 0:
            self.llm.reset()  # type: ignore[no-untyped-call]  # unannotated in llama_cpp
        for start, end in zip([0, *cuts], cuts, strict=False):
            if start >= keep and end > start:
                self._eval(prefix[start:end])

    def _p_yes(self) -> float:
        pointer = self.llm._ctx.get_logits_ith(-1)
        logits = np.ctypeslib.as_array(pointer, shape=(self.llm.n_vocab(),))
        top = logits.max()
        yes = np.exp(logits[self.yes_ids] - top).sum()
        no = np.exp(logits[self.no_ids] - top).sum()
        return float(yes / (yes + no)) if yes + no > 0 else 0.0

    def _signals(self) -> Signals:
        state = self.capture.take() if self.capture else None
        if state is None:  # no capture asked, or a model with fewer blocks
            return Signals(self._p_yes())
        # rounded to float16 here, as stored, so re-scoring saved results gives the same grades
        return Signals(self._p_yes(), state.astype(np.float16).astype(np.float64))

    def judge(self, request: JudgeRequest) -> list[Signals]:
        """One answer at a time: a llama.cpp context is not thread safe, so concurrent callers
        (`tutor grade --parallel-answers N`) queue here instead of corrupting it."""
        with self._lock:
            return self._judge(request)

    def _judge(self, request: JudgeRequest) -> list[Signals]:
        prompts = [self.tokens_for(request, claim) for claim in request.claims]
        longest = max(len(p) for p in prompts)
        if longest > self.llm.n_ctx():
            raise TutorError(f"prompt of {longest} tokens exceeds the model context "
                             f"({self.llm.n_ctx()}); shorten the answer", ExitCode.BACKEND)
        if not self.reuse_prefix:
            return [self._probe_from_scratch(tokens) for tokens in prompts]
        shared = prompts[0]
        for p in prompts[1:]:
            shared = shared[: common_prefix_length(shared, p)]
        shared = shared[: min(len(p) for p in prompts) - 1]  # every probe evaluates ≥ 1 token
        self._load_prefix(shared, request.question)
        results = []
        for tokens in prompts:
            self.llm.n_tokens = len(shared)
            self._eval(tokens[len(shared) :])
            results.append(self._signals())
        return results

    def _probe_from_scratch(self, tokens: list[int]) -> Signals:
        self.llm.reset()  # type: ignore[no-untyped-call]  # unannotated in llama_cpp
        self._eval(tokens)
        return self._signals()

    @classmethod
    def from_settings(cls, settings: "Settings") -> "LocalJudge":
        from tutor.core.model_store import resolve

        return cls(resolve(settings.model), head=settings.head)

    def warm(self) -> None:
        """Evaluate the shared instructions now (e.g. while the learner is typing)."""
        tokens = self.tokens_for(JudgeRequest("q", "a", ("c",)), "c")[: self.system_length]
        with self._lock:
            if self.llm.input_ids[: self.llm.n_tokens].tolist()[: self.system_length] != tokens:
                self.llm.reset()  # type: ignore[no-untyped-call]  # unannotated in llama_cpp
                self._eval(tokens)
