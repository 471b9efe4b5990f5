"""Prompt tokens a grade costs once its question is cached (issue 16's "about 25 tokens per
claim"), for the judge prompts in use (`TUTOR_PROMPTS` picks a folder): the answer's own
segment and the probes' tails, per answer of a gold split. No forward pass: the model is loaded
for its tokenizer and chat template only.

"Question cached" is what the runtime caches today (instructions and question, shared by every
answer to a question); "with its claims" also counts a prompt that lists the claims before the
answer (`evals/prompts/numbered`) as cached with the question, as a runtime that cut its segment
there would (the claims are the same for every answer to a question).

    .venv/bin/python evals/probe_tokens.py --split dev
    TUTOR_PROMPTS=evals/prompts/numbered .venv/bin/python evals/probe_tokens.py --split dev
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.core import model_store  # noqa: E402
from tutor.core.answer import prepare  # noqa: E402
from tutor.core.bank import load_bank  # noqa: E402
from tutor.core.grader import request_for  # noqa: E402
from tutor.core.judges.base import JudgeRequest  # noqa: E402
from tutor.core.judges.llama_runtime import LlamaRuntime, common_prefix_length  # noqa: E402
from tutor.teacher.evaluation import load_gold  # noqa: E402


def cost(runtime: LlamaRuntime, request: JudgeRequest) -> tuple[int, int, int]:
    """(the answer's segment past the cached question, the same past the question and its
    claims, the probes' tails), in prompt tokens."""
    prompts = [runtime.tokens_for(request, claim) for claim in request.claims]
    shared = min(common_prefix_length(prompts[0], p) for p in prompts)
    shared = min(shared, min(len(p) for p in prompts) - 1)
    a, b = (JudgeRequest(request.question, text, request.claims) for text in ("a", "b"))
    with_claims = common_prefix_length(runtime.tokens_for(a, request.claims[0]),
                                       runtime.tokens_for(b, request.claims[0]))
    question = runtime._question_length(request.question)
    return shared - question, shared - min(with_claims, shared), sum(len(p) - shared for p in prompts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="dev")
    args = parser.parse_args()
    runtime = LlamaRuntime(model_store.resolve(None), block=None)
    bank = load_bank()
    rows = []
    for gold in load_gold(args.split):
        request = request_for(bank.get(gold.question_id), prepare(gold.answer))
        if request.answer.strip():
            rows.append(cost(runtime, request))
    answer, answer_cached, probes = (statistics.mean(column) for column in zip(*rows, strict=True))
    print(f"{len(rows)} answers of {args.split}: mean prompt tokens per answer")
    print(f"question cached: answer {answer:.0f} + probes {probes:.0f} = {answer + probes:.0f}")
    print(f"question and its claims cached: answer {answer_cached:.0f} + probes {probes:.0f} "
          f"= {answer_cached + probes:.0f}")


if __name__ == "__main__":
    main()
