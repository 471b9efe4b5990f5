"""The llama.cpp runtime under the local judge: a GGUF model through llama-cpp-python, read by
next-token probability, with the prompt evaluated in cached segments.

Grading is prefill-bound on a CPU, so the work is arranged to evaluate as few tokens as
possible:

- the prompt is evaluated in fixed segments (instructions | question | answer | the probes'
  shared opening), cached between calls, so the instructions are evaluated once per process
  and a question once per question (`load_prefix`, `load_stable`);
- each claim's probe (~25 tokens) is evaluated on top of the shared prefix, one at a time, so
  verdicts can be shown as they come (`probes`).

Nothing is generated: one forward pass per claim gives P(yes) from the next-token
distribution. The same segments are used whatever was cached, so every probability is
bit-identical from run to run on one machine.

Two variants change the arithmetic, and so, slightly, the grades; they live with the
benchmarks that measure them (`evals/runtime.py`, `evals/latency.py`, `evals/batch_bench.py`;
README "Speed"): line segments (each line of the answer its own segment, so finished lines are
evaluated while the learner types) and several streams (the probes of up to `streams` claims
decoded together in one pass, each in its own sequence on a copy of the shared prefix). With
the int4 model, P(yes) moves by up to ~0.05 when only the batch a token is evaluated in
changes, and on this CPU prefill is compute-bound (a 256-token batch runs ~1.3x the tokens/s of
a 25-token one), so neither is the default. The KV cache is split into one stream per sequence
(`kv_unified = false`): with a unified buffer, llama.cpp gives identical sequences in one batch
different logits (ggml-org/llama.cpp#24962); with streams they agree exactly.

Not thread safe: the local judge (`local.py`) serialises every call.
"""

import math
import os
from collections.abc import Generator, Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import llama_cpp.llama_cpp as low_level
import numpy as np

from tutor.core.errors import ExitCode, TutorError
from tutor.core.judges.base import JudgeRequest, messages_for
from tutor.core.judges.capture import BlockCapture, context_params
from tutor.core.model_store import sha256_of
from tutor.core.signals import Provenance, Signals

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

STATE_BLOCK = 20  # of 28: the block whose output feeds the judge head (research/judge.md §2.1)
CONTEXT = 2048  # tokens per sequence: the longest prompt (a 350-word answer) is about 650
YES = ("yes", "Yes", "YES", " yes", " Yes")
NO = ("no", "No", "NO", " no", " No")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def gpu_layers_asked() -> int:
    """TUTOR_GPU_LAYERS: the model's layers to offload to a GPU (-1: all); 0, the CPU, unset.
    The hidden-state capture reads the block's output wherever it was computed."""
    value = os.environ.get("TUTOR_GPU_LAYERS", "0").strip() or "0"
    try:
        return int(value)
    except ValueError:
        raise TutorError(f"TUTOR_GPU_LAYERS={value}: a number of layers (-1: all, 0: none)") from None


def _logistic(gap: float) -> float:
    """1 / (1 + e^-gap) without overflow either way."""
    if gap >= 0:
        return 1.0 / (1.0 + math.exp(-gap))
    return math.exp(gap) / (1.0 + math.exp(gap))


def common_prefix_length(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class LlamaRuntime:
    """One llama.cpp context: the chat-formatted prompt's tokens, its segment cache, the probe
    passes, the hidden-state capture and the reading of P(yes)."""

    streams = 1  # probes decoded together (KV-cache sequences); more changes the arithmetic

    def __init__(self, model_path: Path, n_threads: int | None = None, block: int | None = STATE_BLOCK,
                 gpu_layers: int | None = None):
        """`block`: the transformer block whose output is read as each probe's hidden state
        (None: P(yes) alone). `gpu_layers`: layers offloaded to a GPU (-1: all; default
        `gpu_layers_asked()`); only a llama-cpp-python built for one uses them (README "A GPU")."""
        self.capture = BlockCapture(block) if block is not None else None
        self.gpu_layers = gpu_layers_asked() if gpu_layers is None else gpu_layers
        self.llm = self._load(model_path, n_threads or available_cores())
        if self.capture:
            self.capture.width = self.llm.n_embd()
        self.name = Path(model_path).stem
        layer = f"l_out-{block}" if block is not None else None
        self.provenance = Provenance(sha256_of(Path(model_path)), layer)
        self.formatter = self._formatter(model_path)
        self.yes_ids = self._single_tokens(YES)
        self.no_ids = self._single_tokens(NO)
        self.system_length = self._system_length()
        self._question_lengths: dict[str, int] = {}
        self._boundaries: set[int] = set()  # where the cached evaluation was cut into segments

    def _load(self, model_path: Path, threads: int) -> "Llama":
        from llama_cpp import Llama

        callback = {"cb_eval": self.capture.callback, "cb_eval_user_data": None} if self.capture else {}
        try:
            with context_params(n_seq_max=self.streams, kv_unified=False, **callback):
                return Llama(model_path=str(model_path), n_ctx=self.streams * CONTEXT,
                             n_batch=512, n_threads=threads, n_threads_batch=threads,
                             n_gpu_layers=self.gpu_layers,
                             logits_all=False, seed=0, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise TutorError(f"cannot load model {model_path}: {exc}", ExitCode.MODEL) from None

    def _formatter(self, model_path: Path) -> "Jinja2ChatFormatter":
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise TutorError(f"model {model_path} has no chat template", ExitCode.MODEL)
        eos = self.llm.detokenize([self.llm.token_eos()]).decode(errors="ignore")
        return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token="")

    def _single_tokens(self, words: tuple[str, ...]) -> list[int]:
        ids = {tuple(self.llm.tokenize(w.encode(), add_bos=False, special=False)) for w in words}
        return sorted(t[0] for t in ids if len(t) == 1)

    def tokens_for(self, request: JudgeRequest, claim: str) -> list[int]:
        messages: Any = messages_for(request, claim)  # llama_cpp's TypedDicts are these dicts
        prompt = self.formatter(messages=messages).prompt
        tokens: list[int] = self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        return tokens

    def _system_length(self) -> int:
        """Tokens shared by every prompt (the instructions): cached once per process."""
        a = self.tokens_for(JudgeRequest("q", "a", ("c",)), "c")
        b = self.tokens_for(JudgeRequest("x", "y", ("z",)), "z")
        return common_prefix_length(a, b)

    def _eval(self, tokens: list[int]) -> None:
        """Evaluate prompt tokens on top of the context's (one `eval` call: one segment)."""
        self.llm.eval(tokens)

    def _question_length(self, question: str) -> int:
        """Tokens before the answer starts: shared by all answers to one question."""
        if question not in self._question_lengths:
            a = self.tokens_for(JudgeRequest(question, "a", ("c",)), "c")
            b = self.tokens_for(JudgeRequest(question, "b", ("c",)), "c")
            self._question_lengths[question] = common_prefix_length(a, b)
        return self._question_lengths[question]

    def _cuts(self, prefix: list[int], question: str) -> list[int]:
        """Where the prompt's segments end: the instructions, the question, then the end of
        `prefix` (the answer and the probes' shared opening)."""
        start = min(self._question_length(question), len(prefix))
        return sorted({min(self.system_length, len(prefix)), start, len(prefix)} - {0})

    def stable_prefix(self, request: JudgeRequest) -> list[int]:
        """The segments of the prompt that more text at the end of the answer cannot change
        (the instructions, the question, the finished segments of the answer)."""
        tokens = self.tokens_for(request, request.claims[0])
        # more words, not a mark: the judge reads the answer's judge form (`messages_for`)
        more = JudgeRequest(request.question, f"{request.answer}\nand more", request.claims)
        longer = self.tokens_for(more, request.claims[0])
        stable = common_prefix_length(tokens, longer)
        ready = [cut for cut in self._cuts(tokens, request.question) if cut <= stable]
        return tokens[: ready[-1]] if ready else []

    def load_prefix(self, prefix: list[int], question: str) -> None:
        """Bring the context to `prefix`, reusing what is cached at segment boundaries.

        The prompt is always evaluated in the same segments (`_cuts`), one `eval` call each,
        whether or not a segment was cached, so that the arithmetic, and therefore every
        probability, is bit-identical from run to run. A cached token counts only up to a point
        where the cached evaluation itself was cut: a token's values depend (in the last bits)
        on the batch it was evaluated in."""
        cuts = self._cuts(prefix, question)
        cached = self.llm.input_ids[: self.llm.n_tokens].tolist()
        keep = max((cut for cut in cuts if cut in self._boundaries and cut <= len(cached)
                    and cached[:cut] == prefix[:cut]), default=0)
        self.llm.n_tokens = keep
        if keep == 0:
            self.llm.reset()  # type: ignore[no-untyped-call]  # unannotated in llama_cpp
        for start, end in zip([0, *cuts], cuts, strict=False):
            if start >= keep and end > start:
                self._eval(prefix[start:end])
        self._boundaries = {b for b in self._boundaries if b <= keep} | {c for c in cuts if c > keep}

    def _p_yes(self, index: int = -1) -> float:
        pointer = self.llm._ctx.get_logits_ith(index)
        logits = np.ctypeslib.as_array(pointer, shape=(self.llm.n_vocab(),))
        top = logits.max()
        yes, no = logits[self.yes_ids].astype(np.float64), logits[self.no_ids].astype(np.float64)
        if not (np.isfinite(top) and np.isfinite(yes).all() and np.isfinite(no).all()):
            raise self._corrupt("probability")
        # in log space, so yes and no far below the top token (-200) never underflow to P = 0
        log_yes, log_no = np.logaddexp.reduce(yes), np.logaddexp.reduce(no)
        return _logistic(float(log_yes - log_no))

    def _signals(self, index: int, state: np.ndarray | None) -> Signals:
        if state is None:  # no capture asked, or a model with fewer blocks
            return Signals(self._p_yes(index))
        if not np.isfinite(state).all():
            raise self._corrupt("hidden state")
        # rounded to float16 here, as stored, so re-scoring saved results gives the same grades
        return Signals(self._p_yes(index), state.astype(np.float16).astype(np.float64))

    def _corrupt(self, what: str) -> TutorError:
        """A model file damaged in place keeps its size and time, so the `.verified` stamp
        passes it (hashing 1 GB on every start is too slow); its numbers give it away."""
        return TutorError(f"the model {self.name} gave a {what} that is not a finite number: its file "
                          "may be damaged; run `tutor model verify`", ExitCode.MODEL)

    def prompts(self, request: JudgeRequest) -> list[list[int]]:
        """Each claim's whole prompt; one longer than the context is refused."""
        prompts = [self.tokens_for(request, claim) for claim in request.claims]
        longest = max(len(p) for p in prompts)
        if longest > CONTEXT:
            raise TutorError(f"prompt of {longest} tokens exceeds the model context "
                             f"({CONTEXT}); shorten the answer", ExitCode.BACKEND)
        return prompts

    def probes(self, request: JudgeRequest) -> Generator[tuple[int, Signals]]:
        """(claim index, its signals) as each probe finishes: the prefix all probes share is
        loaded through the segment cache, then the probes run in passes of `streams` claims.
        Closing the iterator early leaves the context at the shared prefix."""
        prompts = self.prompts(request)
        shared = prompts[0]
        for p in prompts[1:]:
            shared = shared[: common_prefix_length(shared, p)]
        shared = shared[: min(len(p) for p in prompts) - 1]  # every probe evaluates ≥ 1 token
        self.load_prefix(shared, request.question)
        for first in range(0, len(prompts), self.streams):
            group = dict(enumerate(prompts[first : first + self.streams], first))
            with closing(self._probe_pass(len(shared), group)) as passing:  # cleans up if stopped
                yield from passing

    def _probe_pass(self, shared: int, prompts: dict[int, list[int]]) -> Generator[tuple[int, Signals]]:
        """Decode the probes of several claims together, each in its own sequence on top of the
        shared prefix; yields each claim's signals as soon as its probe is done.

        llama.cpp takes the same number of tokens from every sequence into one micro-batch, and
        only consecutive sequence ids: so the longest probe gets sequence 0, and each round
        advances every unfinished probe by the same number of tokens, as one micro-batch whose
        rows are known (the captured hidden states are read by row)."""
        order = sorted(prompts, key=lambda i: -len(prompts[i]))
        tails = [prompts[i][shared:] for i in order]
        memory = low_level.llama_get_memory(self.llm._ctx.ctx)
        low_level.llama_memory_seq_rm(memory, -1, shared, -1)  # nothing of an earlier probe stays
        for seq in range(1, len(tails)):
            low_level.llama_memory_seq_cp(memory, 0, seq, -1, -1)
        try:
            for seq, index, state in self._rounds(shared, tails):
                yield order[seq], self._signals(index, state)
        finally:
            for seq in range(1, len(tails)):
                low_level.llama_memory_seq_rm(memory, seq, -1, -1)
            low_level.llama_memory_seq_rm(memory, 0, shared, -1)
            self.llm.n_tokens = shared

    def _rounds(self, shared: int, tails: list[list[int]]) -> Iterator[tuple[int, int, np.ndarray | None]]:
        """(sequence, batch row of its last token, its hidden state) for each probe that ends."""
        done = 0
        while done < len(tails[0]):
            active = sum(len(t) > done for t in tails)  # sequences 0 … active-1 (longest first)
            step = min(len(tails[active - 1]) - done, max(1, self.llm.n_batch // active))
            batch = self.llm._batch.batch
            for seq in range(active):
                for j in range(step):
                    row = seq * step + j
                    batch.token[row] = tails[seq][done + j]
                    batch.pos[row] = shared + done + j
                    batch.n_seq_id[row] = 1
                    batch.seq_id[row][0] = seq
                    batch.logits[row] = done + j == len(tails[seq]) - 1
            batch.n_tokens = active * step
            self._decode(batch)
            states = self.capture.take() if self.capture else None
            for seq in range(active):
                if done + step == len(tails[seq]):
                    row = seq * step + step - 1
                    yield seq, row, None if states is None or len(states) <= row else states[row]
            done += step

    def _decode(self, batch: Any) -> None:
        """Evaluate one filled batch of probe tokens (`batch.n_tokens` of them)."""
        code = low_level.llama_decode(self.llm._ctx.ctx, batch)
        if code != 0:
            raise TutorError(f"the local model failed to evaluate a batch (llama_decode: {code})",
                             ExitCode.BACKEND)

    def forget(self) -> None:
        """Drop everything cached: the next request is evaluated from scratch."""
        self.llm.reset()  # type: ignore[no-untyped-call]  # unannotated in llama_cpp
        self._boundaries = set()

    def warm(self) -> None:
        """Evaluate the shared instructions now, unless they are cached."""
        tokens = self.tokens_for(JudgeRequest("q", "a", ("c",)), "c")[: self.system_length]
        if self.system_length not in self._boundaries or (
                self.llm.input_ids[: self.system_length].tolist() != tokens):
            self.llm.reset()  # type: ignore[no-untyped-call]  # unannotated in llama_cpp
            self._eval(tokens)
            self._boundaries = {self.system_length}
