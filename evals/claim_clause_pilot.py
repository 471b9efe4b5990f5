"""A pilot, not shipped: would the judge recognise a reference answer's key points better if it read
only the clause that states each one (a claim-specific input, issue 26 item 4 and issue 16)?

For every bundled rubric, each key point is asked of its reference answer's clause that shares most
content words with the claim (a lexical pick: sentences, then cut after colons and semicolons), and
its plain P(yes) is set beside the one saved for the whole answer (`evals/out/sep/refs`, made by
`evals/reference_answers.py`; no head on either side).

    .venv/bin/python evals/claim_clause_pilot.py [--refs evals/out/sep/refs/results.jsonl \
        --labelled evals/out/refs/labelled.jsonl]
"""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.core import model_store  # noqa: E402
from tutor.core.answer import STOPWORDS, WORD, split_sentences  # noqa: E402
from tutor.core.bank import load_bank  # noqa: E402
from tutor.core.judges.base import JudgeRequest  # noqa: E402
from tutor.teacher.evaluation import load_labelled, load_run  # noqa: E402


def content_words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(text)} - STOPWORDS


def best_clause(answer: str, claim: str) -> str:
    """The clause sharing most content words with the claim, a little against length."""
    clauses = [c for s in split_sentences(answer) for c in re.split(r"(?<=[;:])\s+", s)]
    wanted = content_words(claim)
    return max(clauses, key=lambda c: len(content_words(c) & wanted) / (1 + 0.02 * len(c.split())))


def saved_whole(path: Path, labelled: Path) -> dict[tuple[str, str], float]:
    """Plain P(yes) of each key point as the whole typed reference answer was judged."""
    run = load_run(path, load_labelled(labelled))
    return {(g.question_id, v.point_id): v.p_yes for g, grade in zip(run.gold, run.grades, strict=True)
            if g.source == "reference-typed" for v in grade.by_kind("key_point") if v.p_yes is not None}


def main() -> None:
    from tutor.core.judges.local import LocalJudge

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", type=Path, default=Path("evals/out/sep/refs/results.jsonl"))
    parser.add_argument("--labelled", type=Path, default=Path("evals/out/refs/labelled.jsonl"))
    args = parser.parse_args()
    whole = saved_whole(args.refs, args.labelled)
    judge = LocalJudge.load(model_store.resolve(None))
    pairs = []
    for rubric in load_bank().rubrics:
        for point in rubric.key_points:
            clause = best_clause(rubric.reference_answer, point.asked)
            p_clause = judge.judge(JudgeRequest(rubric.prompt, clause, (point.asked,)))[0].p_yes
            pairs.append((whole[(rubric.id, point.id)], p_clause))
    n = len(pairs)
    print(f"| {n} key points of the reference answers | whole answer | best clause |\n|---|---|---|")
    print(f"| plain P(yes) below 0.5 | {sum(w < 0.5 for w, _ in pairs)} | {sum(c < 0.5 for _, c in pairs)} |")
    print(f"| mean plain P(yes) | {sum(w for w, _ in pairs) / n:.3f} | {sum(c for _, c in pairs) / n:.3f} |")


if __name__ == "__main__":
    main()
