"""Questions and open choices written without a question mark: how many does answer preparation
set aside, and how many committed answers does it keep whole?

Sets written for this check by helper sessions that never saw the rules in `tutor/core/answer.py`
(`evals/questions_unseen/README.md`): answers that only ask, or only offer alternatives without
choosing (each should have nothing left to judge), and committed answers in forms a detector could
confuse (each should keep every sentence). No model call.

    .venv/bin/python evals/question_forms.py [--show]
"""

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.core.answer import PreparedAnswer, prepare  # noqa: E402

DATA = Path(__file__).parent / "questions_unseen"


# file name → (what its answers are, how preparation should decide each)
KINDS: dict[str, tuple[str, Callable[[PreparedAnswer], bool]]] = {
    "asks.jsonl": ("answers that only ask: nothing left to judge", lambda p: p.contentless),
    "asserts.jsonl": ("answers that assert: every sentence judged", lambda p: not p.unasserted),
    "hedges.jsonl": ("answers that choose no alternative: nothing left to judge", lambda p: p.contentless),
    "commits.jsonl": ("answers that choose between alternatives: every sentence judged",
                      lambda p: not p.unasserted),
}
SETS = {"first": DATA, "second": DATA / "second", "third": DATA / "third"}


def answers(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def count(path: Path, right: Callable[[PreparedAnswer], bool], show: bool) -> str:
    rows = answers(path)
    wrong = [r for r in rows if not right(prepare(r["answer"]))]
    if show:
        for r in wrong:
            print(f"  {r['id']} ({r['form']}): {r['answer'][:100]}")
    return f"{len(rows) - len(wrong)} of {len(rows)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="list the answers decided wrongly")
    show = parser.parse_args().show
    table = ["| set | answers | decided right |", "|---|---|---|"]
    for set_name, folder in SETS.items():
        for file_name, (what, right) in KINDS.items():
            if (folder / file_name).exists():
                table.append(f"| {set_name} | {what} | {count(folder / file_name, right, show)} |")
    print("\n".join(table))


if __name__ == "__main__":
    main()
