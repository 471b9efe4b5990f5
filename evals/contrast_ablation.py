"""What a head should read of each misconception's correction, chosen on answers it never saw.

The judge now probes every misconception's correction beside it (README, issue 26's third
ablation). A head can ignore that probe (`none`), read its P(yes) (`p`: its logit and the
difference of the two logits) or also the difference of the two hidden states (`state`). For
each held-out block of saved runs, a head of each kind is fitted and tuned on the other blocks
exactly as `tutor calibrate RUNS --out` does (one question in four tunes), then the block and the
rubrics' own reference answers are decided by it. No model call.

    .venv/bin/python evals/contrast_ablation.py --block examiner=evals/out/norm/dev/results.jsonl \\
        --block examiner=evals/out/norm/test/results.jsonl \\
        --block writers=evals/out/norm/writers/results.jsonl \\
        --refs evals/out/norm/refs/results.jsonl --refs-labelled evals/out/refs/labelled.jsonl
"""

import argparse
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.core.bank import load_bank  # noqa: E402
from tutor.core.decide import CONTRASTS  # noqa: E402
from tutor.core.result import Band  # noqa: E402
from tutor.teacher.calibration import calibrate, fit_and_tune  # noqa: E402
from tutor.teacher.evaluation import EvalRun, above_band, joined, load_runs, metrics, rescore_run  # noqa: E402


def blocks_of(pairs: list[str]) -> dict[str, EvalRun]:
    """NAME=RESULTS pairs → one joined run per name."""
    paths: dict[str, list[Path]] = defaultdict(list)
    for pair in pairs:
        name, _, path = pair.partition("=")
        paths[name].append(Path(path))
    return {name: joined(load_runs(found)) for name, found in paths.items()}


def row(contrast: str, held: str, decided: EvalRun, refs: EvalRun | None) -> str:
    m = metrics(decided)
    full = "—" if refs is None else str(sum(g.band == Band.FULL for g in refs.grades))
    return (f"| {contrast} | {held} | {len(decided.gold)} | {m.spearman:.3f} | {m.band_accuracy:.3f} | "
            f"{m.misconception.f1:.3f} | {above_band(decided)} | {m.review[0]:.3f} / {m.review[1]:.3f} | "
            f"{m.band_ece:.3f} | {full} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--block", action="append", required=True, help="NAME=results.jsonl (repeatable)")
    parser.add_argument("--refs", type=Path, help="the reference answers' saved run")
    parser.add_argument("--refs-labelled", type=Path, help="their labelled file")
    parser.add_argument("--reads", default=",".join(CONTRASTS),
                        help="which heads (default: all; `none` alone for runs saved before corrections)")
    args = parser.parse_args()
    bank, blocks = load_bank(), blocks_of(args.block)
    refs = load_runs([args.refs], [args.refs_labelled])[0] if args.refs else None
    print("| head reads | held out | answers | Spearman | band accuracy | misconception F1 | "
          "above the examiner's band | flagged / band accuracy on the rest | band calibration error | "
          "reference answers full |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for contrast in args.reads.split(","):
        for held, block in blocks.items():
            rest = joined([b for name, b in blocks.items() if name != held])
            head = calibrate(bank, *fit_and_tune(rest), {"name": f"without-{held}"}, say=lambda _: None,
                             contrast=contrast)
            decided_refs = rescore_run(bank, refs, head) if refs else None
            print(row(contrast, held, rescore_run(bank, block, head), decided_refs), flush=True)


if __name__ == "__main__":
    main()
