"""Choose the plain P(yes) thresholds on the dev split, from a saved eval run (no model calls).

The trained head chooses its own thresholds (`tutor calibrate`); this script serves the
plain head, used by backends without hidden states and as the fallback.

    .venv/bin/tutor eval --split dev --out evals/out/dev
    .venv/bin/python evals/calibrate.py evals/out/dev/results.jsonl

Grid-searches the key-point and misconception thresholds, keeps only settings that
put no injection / keyword / master-key answer in the top band, and ranks the rest
by band accuracy, then Spearman. Use the winner as `Thresholds`' defaults, then
report the test split.
"""

import argparse
from pathlib import Path

from tutor.core.bank import load_bank
from tutor.teacher.evaluation import load_run, safe_threshold_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    bank = load_bank()
    run = load_run(args.results)
    ranked = [(round(m.band_accuracy, 3), round(m.spearman, 3), round(m.qwk, 3),
               round(m.key_point.accuracy, 3), t.key_point, t.misconception)
              for t, m in safe_threshold_settings(bank, run)]
    ranked.sort(reverse=True)
    print("band_acc spearman qwk  kp_acc  kp_threshold misc_threshold")
    for row in ranked[: args.top]:
        print("  ".join(f"{x:<6}" for x in row))


if __name__ == "__main__":
    main()
