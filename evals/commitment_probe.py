"""An experiment, not shipped: can the judge itself tell an answer that commits from one that only
asks or leaves its alternatives open (issue 26 item 3's "commitment probe")?

The sets of `evals/questions_unseen/` (written by helper sessions, see its README) are asked
through the local judge with commitment claims in place of a rubric's points; each answer's raw
text is read in its judge form (as every claim is), as a probe placed before the rules would read
it. Two readings:

- zero-shot: each claim's P(yes), AUC for "commits" against "only asks or leaves open";
- a probe: a logistic head on the hidden states, fitted on the first and second sets and measured
  on the third, which no rule or head has been chosen on.

The rules (`answer.prepare`) are measured on the same third set for comparison. Signals are saved
(`--signals`, a folder, default `evals/out/commitment/`), so the fit reruns without the model.

    .venv/bin/python evals/commitment_probe.py [--check 160]
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals.question_forms import SETS, answers  # noqa: E402
from tutor.core import model_store  # noqa: E402
from tutor.core.answer import prepare  # noqa: E402
from tutor.core.bank import load_bank  # noqa: E402
from tutor.core.judges.base import JudgeRequest  # noqa: E402

COMMITS = {"asserts.jsonl": 1, "commits.jsonl": 1, "asks.jsonl": 0, "hedges.jsonl": 0}
CLAIMS = (
    "the student gives an answer of their own and stands by it.",
    "the student only asks a question and gives no answer.",
    "the student cannot decide between two or more options.",
)


def rows() -> list[dict[str, str | int]]:
    bank = load_bank()
    out: list[dict[str, str | int]] = []
    for set_name, folder in SETS.items():
        for file_name, label in COMMITS.items():
            path = folder / file_name
            out += [{**row, "set": set_name, "commits": label, "prompt": bank.get(row["question_id"]).prompt}
                    for row in (answers(path) if path.exists() else [])]
    return out


def check_rows(per_group: int, seed: int = 0) -> list[dict[str, str | int]]:
    """Answers nobody wrote for this check: every gold answer of the question and hedge families,
    a seeded sample of the other gold answers, and a sample of SemEval's test answers."""
    from evals.mix_head import semeval_run
    from tutor.teacher.evaluation import load_gold

    rng = np.random.default_rng(seed)
    bank = load_bank()
    gold = load_gold("every")
    opens = [g for g in gold if g.category in ("question_form", "hedging")]
    others = [g for g in gold if g.category not in ("question_form", "hedging")]
    picked = [others[i] for i in rng.choice(len(others), per_group, replace=False)]
    out: list[dict[str, str | int]] = [
        {"answer": g.answer, "prompt": bank.get(g.question_id).prompt, "band": g.band.value,
         "group": "gold: questions, hedges" if g in opens else "gold: other"} for g in [*opens, *picked]]
    for folder in sorted(Path("evals/out/semeval").glob("*-test-*")):
        sem_bank, run = semeval_run(folder, "run-sep")
        for i in rng.choice(len(run.gold), per_group // 5, replace=False):
            g = run.gold[i]
            out.append({"answer": g.answer, "prompt": sem_bank.get(g.question_id).prompt,
                        "group": "SemEval test", "band": g.band.value})
    return out


def measure(items: list[dict[str, str | int]], model: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Each item's P(yes) and hidden state for every claim; an item's `prompt` is its question."""
    from tutor.core.judges.local import LocalJudge

    judge = LocalJudge.load(model_store.resolve(model))
    p_yes, states = [], []
    for item in items:
        request = JudgeRequest(str(item["prompt"]), str(item["answer"]), CLAIMS)  # read in judge form
        signals = judge.judge(request)
        p_yes.append([s.p_yes for s in signals])
        states.append(np.concatenate([np.asarray(s.state, dtype=np.float32) for s in signals]))
    return np.array(p_yes), np.array(states)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--signals", type=Path, default=Path("evals/out/commitment"))
    parser.add_argument("--check", type=int, metavar="N",
                        help="also probe gold and SemEval answers (N other gold answers, N/5 per "
                             "SemEval set) with the probe fitted on all three sets")
    args = parser.parse_args()
    items = rows()
    path = args.signals / "sets.npz"
    if not path.exists():
        p_yes, states = measure(items, args.model)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, p_yes=p_yes, states=states)
    saved = np.load(path)
    p_yes, states = saved["p_yes"], saved["states"]
    label = np.array([int(i["commits"]) for i in items])
    third = np.array([i["set"] == "third" for i in items])
    print(f"{len(items)} answers; third set {third.sum()} (commits {label[third].sum()})")
    for k, claim in enumerate(CLAIMS):
        sign = 1 if k == 0 else -1
        auc = roc_auc_score(label[third], sign * p_yes[third, k])
        print(f"zero-shot AUC, third set, '{claim[:50]}': {auc:.3f}")
    for c in (0.001, 0.01, 0.1):
        head = LogisticRegression(C=c, max_iter=2000).fit(states[~third], label[~third])
        prob = head.predict_proba(states[third])[:, 1]
        right = ((prob >= 0.5) == label[third]).mean()
        print(f"probe C={c}: AUC {roc_auc_score(label[third], prob):.3f}, accuracy at 0.5 {right:.3f}")
    rules = np.array([not prepare(str(i["answer"])).unasserted for i in items])
    accuracy = (rules[third] == label[third]).mean()
    print(f"rules (every sentence judged = commits), third set accuracy: {accuracy:.3f}")
    if args.check:
        check(args, LogisticRegression(C=0.01, max_iter=2000).fit(states, label))


def check(args: argparse.Namespace, head: LogisticRegression) -> None:
    """How often the probe says "commits to nothing" on answers written by others, by group and band."""
    items = check_rows(args.check)
    path = args.signals / f"check-{args.check}.npz"
    if not path.exists():
        p_yes, states = measure(items, args.model)
        np.savez(path, p_yes=p_yes, states=states)
    prob = head.predict_proba(np.load(path)["states"])[:, 1]
    rules = np.array([prepare(str(i["answer"])).contentless for i in items])
    print("| answers | band | n | probe: commits to nothing (P < 0.5) | rules: nothing left |")
    print("|---|---|---|---|---|")
    keys = sorted({(str(i["group"]), str(i["band"])) for i in items})
    for group, band in keys:
        at = np.array([i["group"] == group and i["band"] == band for i in items])
        print(f"| {group} | {band} | {at.sum()} | {(prob[at] < 0.5).sum()} | {rules[at].sum()} |")


if __name__ == "__main__":
    main()
