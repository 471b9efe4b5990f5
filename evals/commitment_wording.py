"""A pilot, not shipped: does the probe's wording decide whether the judge credits a claim the
student names only to reject? Plain P(yes) (no head: a head is fitted to one wording) of the
current probe, "Does the student's answer say that …", against other wordings given as prompt
folders (`TUTOR_PROMPTS`), on:

- the rubrics' reference answers, every key point (should stay yes: recall);
- the gold reversal family (20 answers), each key point and misconception with its label;
- the unseen denial set (`evals/reversal_unseen/second`): the key point nearest in words to each
  denied course claim (should be no), the misconception nearest to each rejected misconception
  (no), and the key point nearest to each kept claim of a committed or correcting answer (yes).

    .venv/bin/python evals/commitment_wording.py --out evals/out/wording/say.jsonl
    TUTOR_PROMPTS=DIR .venv/bin/python evals/commitment_wording.py --out evals/out/wording/DIR.jsonl
    .venv/bin/python evals/commitment_wording.py --compare evals/out/wording/*.jsonl
"""

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel  # noqa: E402

from evals.denial_forms import DATA, cases  # noqa: E402
from tutor.core import model_store  # noqa: E402
from tutor.core.answer import best_quote, judge_form, prepare  # noqa: E402
from tutor.core.bank import Bank, load_bank  # noqa: E402
from tutor.core.judges.base import JudgeRequest  # noqa: E402
from tutor.core.rubric import KeyPoint, Misconception, Rubric  # noqa: E402
from tutor.teacher.evaluation import load_labelled  # noqa: E402

GOLD = Path(__file__).parent / "gold" / "writers.jsonl"
# role → (what it is, whether the judge should say yes)
ROLES = {
    "ref": ("key points of the reference answers", True),
    "gold-yes": ("reversal family: key points and misconceptions labelled stated", True),
    "gold-no": ("reversal family: key points and misconceptions labelled not stated", False),
    "denied-point": ("unseen: key point nearest a denied course claim", False),
    "denied-misc": ("unseen: misconception nearest a rejected misconception", False),
    "kept-point": ("unseen: key point nearest a claim kept (committed or correcting)", True),
}


class Probe(BaseModel):
    item: str
    role: str
    claim_id: str
    p_yes: float


class Ask(BaseModel):
    item: str
    rubric_id: str
    answer: str
    roles: dict[str, str]  # claim id → role


def nearest(text: str, claims: list[KeyPoint] | list[Misconception]) -> str:
    """The claim sharing most content words with `text` (the first when none shares any)."""
    asked = [c.asked for c in claims]
    best = best_quote(text, asked)
    return claims[asked.index(best) if best is not None else 0].id


def asks(bank: Bank) -> Iterator[Ask]:
    for rubric in bank.rubrics:
        yield Ask(item=f"ref:{rubric.id}", rubric_id=rubric.id, answer=rubric.reference_answer,
                  roles={p.id: "ref" for p in rubric.key_points})
    for gold in load_labelled(GOLD):
        if gold.family == "reversal_frames":
            labels = {**gold.key_points, **gold.misconceptions}
            yield Ask(item=gold.id, rubric_id=gold.question_id, answer=gold.answer,
                      roles={k: "gold-yes" if v else "gold-no" for k, v in labels.items()})
    for file_name in ("denies.jsonl", "affirms.jsonl", "corrects.jsonl"):
        for case in cases(DATA / "second" / file_name):
            yield Ask(item=case.id, rubric_id=case.question_id, answer=case.answer,
                      roles=unseen_roles(bank.get(case.question_id), file_name, case.denied, case.kept))


def unseen_roles(rubric: Rubric, file_name: str, denied: list[str], kept: list[str]) -> dict[str, str]:
    roles = {nearest(k, rubric.key_points): "kept-point" for k in kept}
    for d in denied:
        if file_name == "corrects.jsonl" and rubric.misconceptions:
            roles[nearest(d, rubric.misconceptions)] = "denied-misc"
        elif file_name == "denies.jsonl":
            roles[nearest(d, rubric.key_points)] = "denied-point"
    return roles


def probe_all(out: Path) -> None:
    from tutor.core.judges.local import LocalJudge

    bank, judge = load_bank(), LocalJudge.load(model_store.resolve(None))
    rows: list[Probe] = []
    for ask in asks(bank):
        rubric = bank.get(ask.rubric_id)
        claims = {c.id: c.asked for c in [*rubric.key_points, *rubric.misconceptions] if c.id in ask.roles}
        text = judge_form(prepare(ask.answer).text)
        signals = judge.judge(JudgeRequest(rubric.prompt, text, tuple(claims.values())))
        rows += [Probe(item=ask.item, role=ask.roles[cid], claim_id=cid, p_yes=s.p_yes or 0.0)
                 for cid, s in zip(claims, signals, strict=True)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(r.model_dump_json() + "\n" for r in rows), encoding="utf-8")


def compare(runs: list[Path]) -> str:
    header = "| claims | " + " | ".join(p.stem for p in runs) + " |"
    lines = [header, "|---" * (len(runs) + 1) + "|"]
    by_run = [[Probe.model_validate_json(x) for x in p.read_text().splitlines() if x] for p in runs]
    for role, (what, yes) in ROLES.items():
        cells = []
        for rows in by_run:
            ps = [r.p_yes for r in rows if r.role == role]
            right = sum((p >= 0.5) == yes for p in ps)
            cells.append(f"mean {sum(ps) / max(len(ps), 1):.3f}, right {right} / {len(ps)}")
        lines.append(f"| {what} ({'yes' if yes else 'no'}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", type=Path, nargs="+")
    args = parser.parse_args()
    if args.compare:
        print(compare(args.compare))
    elif args.out:
        probe_all(args.out)
    else:
        parser.error("give --out or --compare")


if __name__ == "__main__":
    main()
