"""What the grader makes of answers that deny claims: each answer of the denial sets graded
through the real default model, bands counted per file; with `--against` an earlier run of the
same answers, the answers whose band changed. To grade with other code (a rule's commit), run
this script from a worktree of it: the script puts its own checkout first on the path. The sets
have no examiner's marks, so the table says only how the grades move: an answer that denies
what the course teaches and asserts the opposite has no key point to earn, and a committed
answer should keep its grade.

    .venv/bin/python evals/denial_grades.py --set second --out evals/out/denial/second-after.jsonl \
        [--against evals/out/denial/second-before.jsonl]
"""

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel  # noqa: E402

from evals.denial_forms import DATA, KINDS, cases  # noqa: E402
from tutor.core import model_store  # noqa: E402
from tutor.core.bank import load_bank  # noqa: E402
from tutor.core.grader import grade  # noqa: E402
from tutor.core.judges.local import LocalJudge  # noqa: E402
from tutor.core.judges.registry import ReliableJudge  # noqa: E402

BAND_ORDER = {"fail": 0, "partial": 1, "full": 2}


class Graded(BaseModel):
    id: str
    file: str
    score: float | None
    band: str


def grade_set(folder: Path) -> list[Graded]:
    bank = load_bank()
    judge = ReliableJudge(LocalJudge.load(model_store.resolve(None)))
    out: list[Graded] = []
    for file_name in KINDS:
        for case in cases(folder / file_name):
            result = grade(bank.get(case.question_id), case.answer, judge)
            out.append(Graded(id=case.id, file=file_name, score=result.score, band=str(result.band.value)))
    return out


def load(path: Path) -> list[Graded]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Graded.model_validate_json(line) for line in lines if line]


def table(rows: list[Graded], before: dict[str, Graded]) -> str:
    lines = ["| answers | full / partial / fail | mean score | band changed (up / down) |",
             "|---|---|---|---|"]
    for file_name, what in KINDS.items():
        mine = [r for r in rows if r.file == file_name]
        bands = Counter(r.band for r in mine)
        mean = sum(r.score or 0.0 for r in mine) / max(len(mine), 1)
        moved = [(before[r.id].band, r.band) for r in mine if r.id in before and before[r.id].band != r.band]
        up = sum(BAND_ORDER[b] < BAND_ORDER[a] for b, a in moved)
        lines.append(f"| {what} ({len(mine)}) | {bands['full']} / {bands['partial']} / {bands['fail']} "
                     f"| {mean:.3f} | {len(moved)} ({up} / {len(moved) - up}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="second", help="a folder of evals/reversal_unseen")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--against", type=Path, help="an earlier --out of the same set")
    args = parser.parse_args()
    rows = grade_set(DATA / args.set)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(r.model_dump_json() + "\n" for r in rows), encoding="utf-8")
    print(table(rows, {} if args.against is None else {g.id: g for g in load(args.against)}))


if __name__ == "__main__":
    main()
