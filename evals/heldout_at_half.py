"""Leave one source out (and one attack family), every head and plain P(yes) deciding at 0.5.

`tutor eval --from RUNS --held-out` fits each held-out source's head as `tutor calibrate` does
(which now decides at P(stated) 0.5) and tunes plain P(yes)'s thresholds on the other sources.
This script is the README's comparison of deciding at 0.5 against tuned thresholds: plain
P(yes) is held at 0.5 too, so both columns use no tuned threshold. No model call.

    .venv/bin/python evals/heldout_at_half.py evals/out/base-dev/results.jsonl \\
        evals/out/base-test/results.jsonl evals/out/base-writers/results.jsonl > heldout-at-half.md
"""

import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.core.bank import load_bank  # noqa: E402
from tutor.core.decide import PlainHead  # noqa: E402
from tutor.teacher import generalisation  # noqa: E402
from tutor.teacher.calibration import STATED_FROM  # noqa: E402
from tutor.teacher.evaluation import joined, load_runs  # noqa: E402
from tutor.teacher.generalisation import by_family, by_source, family_table, held_out, source_table  # noqa: E402


def at_half(bank: object, dev: object, head: PlainHead) -> PlainHead:
    return replace(head, thresholds=STATED_FROM)


def main() -> None:
    setattr(generalisation, "choose_thresholds", at_half)  # noqa: B010  # plain P(yes) at 0.5
    runs = joined(load_runs([Path(p) for p in sys.argv[1:]]))
    bank = load_bank()
    print("\n".join(source_table(held_out(bank, runs, by_source))), flush=True)
    print("\n".join(family_table(held_out(bank, runs, by_family))))


if __name__ == "__main__":
    main()
