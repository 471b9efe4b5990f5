"""A learner's wait for a grade: today's path against the new one, measured in one run.

    .venv/bin/python evals/latency.py [--answers 8] [--model default] [--streams 8] [--line-segments]
                                      [--from-scratch]

- The machine's prefill limit: prompt tokens/s of the model for one large batch and for
  probe-sized batches (25 tokens).
- For the same dev answers (strong and partial, typed one sentence per line, as in `drill`):
  - today's path: nothing is evaluated before Enter; at submit the question, the answer (one
    segment) and each claim's probe (one small batch each) are evaluated; the feedback appears
    when the last verdict is known (`--from-scratch`: every probe's whole prompt alone);
  - the new path: the question is evaluated while it is on screen, and each finished line as it
    is typed, followed by a grade of the answer as it stands (work ahead); the learner ends the
    answer with a '.' line `--dot-delay` seconds after the last sentence's Enter (default 1 s,
    a quick typist), so the work ahead on the last line has had only that long; then what is
    left runs (all probes in shared passes) and the verdicts stream, numeric checks first.
  Per path: prompt tokens evaluated after Enter, seconds from Enter to the first verdict and to
  the last one, and the band.
Ratios, not absolute times, are the result: both paths run in this process, on the same
machine, over the same answers.
"""

import argparse
import re
import statistics
import threading
import time
from dataclasses import dataclass

from bench_runtime import BenchRuntime

from tutor.core import model_store
from tutor.core.bank import Bank, load_bank
from tutor.core.grader import grade, prefill
from tutor.core.judges.base import JudgeRequest
from tutor.core.judges.local import LocalJudge
from tutor.core.result import Grade, Verdict
from tutor.teacher.evaluation import GoldAnswer, load_gold

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Wait:
    tokens: int
    first: float
    last: float
    grade: Grade


def tokens_per_second(runtime: BenchRuntime, size: int, repeats: int) -> float:
    """Prompt tokens/s for batches of `size` tokens on top of a 256-token prefix."""
    base = runtime.tokens_for(judge_request(), "c")
    prefix = (base * (256 // len(base) + 1))[:256]
    runtime.forget()
    runtime._eval(prefix)
    start = time.perf_counter()
    for _ in range(repeats):
        runtime.llm.n_tokens = len(prefix)
        runtime._eval(prefix[:size])
    return size * repeats / (time.perf_counter() - start)


def judge_request() -> JudgeRequest:
    return JudgeRequest("How does GQA differ from MQA?", "GQA shares one KV head per group.", ("c",))


def typed_lines(answer: str) -> list[str]:
    return [line for line in SENTENCE_END.split(answer.strip()) if line]


def wait_today(judge: LocalJudge, runtime: BenchRuntime, bank: Bank, item: GoldAnswer) -> Wait:
    judge.forget()
    judge.warm()  # the instructions stay cached from one answer to the next, nothing else
    before = runtime.tokens_evaluated
    start = time.perf_counter()
    result = grade(bank.get(item.question_id), "\n".join(typed_lines(item.answer)), judge)
    seconds = time.perf_counter() - start
    return Wait(runtime.tokens_evaluated - before, seconds, seconds, result)  # feedback at the end


def wait_new(judge: LocalJudge, runtime: BenchRuntime, bank: Bank, item: GoldAnswer,
             dot_delay: float) -> Wait:
    rubric = bank.get(item.question_id)
    lines = typed_lines(item.answer)
    judge.forget()
    judge.warm()
    prefill(rubric, "", judge)  # while the question is on screen
    for typed in range(1, len(lines)):  # while the learner types the next line
        prefill(rubric, "\n".join(lines[:typed]), judge)
    last_line = threading.Thread(target=prefill, args=(rubric, "\n".join(lines), judge))
    last_line.start()  # Enter after the last sentence
    time.sleep(dot_delay)  # … then the '.' line
    heard: list[float] = []
    before = runtime.tokens_evaluated
    start = time.perf_counter()

    def hear(_: Verdict) -> None:
        heard.append(time.perf_counter() - start)

    result = grade(rubric, "\n".join(lines), judge, on_verdict=hear)
    last = time.perf_counter() - start
    last_line.join()
    return Wait(runtime.tokens_evaluated - before, heard[0] if heard else last, last, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=8)
    parser.add_argument("--model", default="default")
    parser.add_argument("--dot-delay", type=float, default=1.0,
                        help="seconds between the last sentence's Enter and the '.' line")
    parser.add_argument("--streams", type=int, default=1, help="probes decoded together (new path)")
    parser.add_argument("--line-segments", action="store_true", help="each answer line its own segment")
    parser.add_argument("--from-scratch", action="store_true",
                        help="today's path evaluates every probe's whole prompt alone (no segment cache)")
    args = parser.parse_args()
    bank = load_bank()
    gold = [g for g in load_gold("dev") if g.category in {"strong", "partial"}
            and len(typed_lines(g.answer)) > 1]
    answers = gold[:: max(1, len(gold) // args.answers)][: args.answers]
    path = model_store.resolve(args.model)
    old = BenchRuntime(path, from_scratch=args.from_scratch)
    new = BenchRuntime(path, streams=args.streams, line_segments=args.line_segments)
    today, ahead = LocalJudge(old), LocalJudge(new)
    for judge in (today, ahead):
        judge.warm()
    large, small = tokens_per_second(new, 256, 2), tokens_per_second(new, 25, 10)
    waits = [(wait_today(today, old, bank, item), wait_new(ahead, new, bank, item, args.dot_delay))
             for item in answers]
    report(path.name, new, large, small, waits)


def report(model: str, runtime: BenchRuntime, large: float, small: float,
           waits: list[tuple[Wait, Wait]]) -> None:
    def mean(values: list[float]) -> float:
        return statistics.fmean(values)

    old_last, new_last = mean([a.last for a, _ in waits]), mean([b.last for _, b in waits])
    old_first, new_first = mean([a.first for a, _ in waits]), mean([b.first for _, b in waits])
    same = sum(a.grade.band == b.grade.band for a, b in waits)
    print(f"{len(waits)} answers, model {model}, {runtime.llm.n_threads} threads")
    print(f"prefill limit: {large:.1f} prompt tokens/s in a 256-token batch, "
          f"{small:.1f} in 25-token batches (x{large / small:.2f})")
    print("| path | tokens after Enter | first verdict (s) | last verdict (s) |")
    print("|---|---|---|---|")
    print(f"| today | {mean([a.tokens for a, _ in waits]):.0f} | {old_first:.2f} | {old_last:.2f} |")
    print(f"| new | {mean([b.tokens for _, b in waits]):.0f} | {new_first:.2f} | {new_last:.2f} |")
    print(f"Enter → last verdict: new/today = {new_last / old_last:.2f}; "
          f"Enter → first verdict: {new_first:.2f} s (today {old_first:.2f} s); "
          f"same band in {same}/{len(waits)}")


if __name__ == "__main__":
    main()
