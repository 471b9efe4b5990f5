"""Questions written without a question mark: how many does answer preparation set aside?

Two sets written for this check by a helper session that never saw the rules in
`tutor/core/answer.py` (`evals/questions_unseen/README.md`): 40 answers that only ask (each should
have nothing left to judge) and 40 that assert in forms a question detector could confuse (each
should keep every sentence). No model call.

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


def answers(name: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line]


def count(name: str, right: Callable[[PreparedAnswer], bool], show: bool) -> str:
    rows = answers(name)
    wrong = [r for r in rows if not right(prepare(r["answer"]))]
    if show:
        for r in wrong:
            print(f"  {r['id']} ({r['form']}): {r['answer'][:100]}")
    return f"{len(rows) - len(wrong)} of {len(rows)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="list the answers decided wrongly")
    show = parser.parse_args().show
    asks = count("asks.jsonl", lambda p: p.contentless, show)
    kept = count("asserts.jsonl", lambda p: not p.unasserted, show)
    print("| set | decided right |\n|---|---|")
    print(f"| answers that only ask: nothing left to judge | {asks} |")
    print(f"| answers that assert: every sentence judged | {kept} |")


if __name__ == "__main__":
    main()
