"""Claims named only to be denied: how many does answer preparation set aside, and how many
committed claims does it keep?

Sets written for this check by helper sessions that never saw a rule for it
(`evals/reversal_unseen/README.md`). Each answer lists the exact words of the claims it denies
(`denied`: none may reach the judge) and of the claims it commits to (`kept`: each must reach
it). No model call. README's "Claims named only to be denied" has the figures of the rule tried.

    .venv/bin/python evals/denial_forms.py [--show]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel  # noqa: E402

from tutor.core.answer import prepare  # noqa: E402

DATA = Path(__file__).parent / "reversal_unseen"
KINDS = {
    "denies.jsonl": "answers that deny a claim the course teaches",
    "affirms.jsonl": "committed answers in a denial's words",
    "corrects.jsonl": "answers that reject a misconception and state the fact",
}


class Case(BaseModel):
    id: str
    question_id: str
    answer: str
    form: str
    denied: list[str]  # exact words of each claim named only to be denied
    kept: list[str]  # exact words of each claim the writer commits to


def cases(path: Path) -> list[Case]:
    return [Case.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _flat(text: str) -> str:
    return " ".join(text.split())


def decided_right(case: Case) -> bool:
    """No denied claim reaches the judge, and every kept one does."""
    judged = _flat(prepare(case.answer).text)
    return (all(_flat(d) not in judged for d in case.denied)
            and all(_flat(k) in judged for k in case.kept))


def count(path: Path, show: bool) -> tuple[int, int]:
    rows = cases(path)
    wrong = [c for c in rows if not decided_right(c)]
    if show:
        for c in wrong:
            print(f"  {c.id} ({c.form}): {c.answer[:110]}")
    return len(rows) - len(wrong), len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="list the answers decided wrongly")
    show = parser.parse_args().show
    table = ["| set | answers | decided right |", "|---|---|---|"]
    for folder in sorted(p for p in DATA.iterdir() if p.is_dir()):
        for file_name, what in KINDS.items():
            if (folder / file_name).exists():
                right, total = count(folder / file_name, show)
                table.append(f"| {folder.name} | {what} | {right} of {total} |")
    print("\n".join(table))


if __name__ == "__main__":
    main()
