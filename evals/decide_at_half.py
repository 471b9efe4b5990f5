"""An already fitted head, deciding as `tutor calibrate` now decides: at P(stated) 0.5, with its
band probability calibrated at the answer level and the review cut-off chosen again, both on dev
(`calibration.more_likely_than_not`, `calibrate_doubt`).

The shipped head was fitted on the train split and its thresholds tuned on dev (0.10 / 0.55);
its coefficients stay as they are (the train run is not kept), only the decision changes. Issue
26's leave-one-source-out comparison of the two rules is in README ("deciding at 0.5").

    .venv/bin/python evals/decide_at_half.py tutor/core/heads/qwen2.5-coder-1.5b-instruct-q4_k_m.npz \\
        --dev evals/out/base-dev/results.jsonl --out tutor/core/heads/qwen2.5-coder-1.5b-instruct-q4_k_m.npz
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.core.bank import load_bank  # noqa: E402
from tutor.core.decide import ProbeHead  # noqa: E402
from tutor.teacher.calibration import calibrate_doubt, more_likely_than_not  # noqa: E402
from tutor.teacher.evaluation import load_runs, metrics, rescore_run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("head", type=Path)
    parser.add_argument("--dev", type=Path, required=True, help="the dev run the review cut-off is chosen on")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    bank, dev = load_bank(), load_runs([args.dev])[0]
    head = ProbeHead.load(args.head)
    decided = calibrate_doubt(bank, dev, more_likely_than_not(bank, dev, head))
    decided.meta["decision"] = ("P(stated) >= 0.5; band probability calibrated and review cut-off "
                                "chosen on dev")
    decided.save(args.out)
    m = metrics(rescore_run(bank, dev, decided))
    print(f"{decided.name}: thresholds {head.thresholds} → {decided.thresholds}, review below "
          f"{head.review_below} → {decided.review_below}; dev band accuracy {m.band_accuracy:.3f}, "
          f"Spearman {m.spearman:.3f}, flagged {m.review[0]:.3f} → {args.out}")


if __name__ == "__main__":
    main()
