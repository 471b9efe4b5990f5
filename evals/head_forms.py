"""Forms of the judge head, fitted on the same saved signals (issue 26 item 2: choose by
cross-validation across sources). No model call.

The shipped recipe is a logistic regression on the standardised features (`decide.features`:
logit P(yes), the kind, the block-20 state, and each misconception's correction), its C chosen by
log-loss on one question in four. Does another form of the same evidence hold better on writers
it never saw?

- `C` fixed, from 0.0001 to 0.003 (the held-out report chooses, not the tuning questions);
- the P(yes) columns penalised less than the state (their standardised values scaled up);
- the state and the correction's state each reduced to their first 16 principal components.

For each form: leave one source out and one attack family out (answers above the examiner's band,
band accuracy), the reference answers full (head fitted on everything), and the contrast pairs'
complete answers' points credited and bare mentions refused. Every form decides at 0.5.

    .venv/bin/python evals/head_forms.py --run evals/out/sep/dev/results.jsonl \\
        --run evals/out/sep/writers/results.jsonl --semeval evals/out/semeval/scientsbank-train \\
        --semeval-run run-sep --refs evals/out/sep/refs/results.jsonl \\
        --refs-labelled evals/out/refs/labelled.jsonl --pairs evals/out/pairs/cpA/results.jsonl \\
        --pairs evals/out/pairs/cpB/results.jsonl --pairs evals/out/pairs/cpC/results.jsonl
"""

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals.contrast_fit import pairs_of, point_counts  # noqa: E402
from evals.reference_anchor import Tally, refs_full  # noqa: E402
from evals.reference_fit import add_fit_inputs, fit_inputs, parted  # noqa: E402
from tutor.core.bank import Bank  # noqa: E402
from tutor.core.decide import ProbeHead, Thresholds, features  # noqa: E402
from tutor.teacher.calibration import labelled_points  # noqa: E402
from tutor.teacher.evaluation import EvalRun, GoldAnswer, rescore_run  # noqa: E402
from tutor.teacher.generalisation import by_family, by_source  # noqa: E402


@dataclass(frozen=True)
class Form:
    c: float
    p_weight: float = 1.0  # the P(yes) columns' scale in the standardised features
    components: int | None = None  # principal components of each state kept

    def __str__(self) -> str:
        parts = [f"C {self.c:g}"]
        if self.p_weight != 1:
            parts.append(f"P(yes) ×{self.p_weight:g}")
        if self.components:
            parts.append(f"{self.components} components")
        return ", ".join(parts)


FORMS = ([Form(c) for c in (0.0001, 0.0003, 0.001, 0.003)]
         + [Form(c, p_weight=w) for c in (0.0003, 0.001) for w in (5.0, 20.0)]
         + [Form(0.001, components=16)])


def column_groups(width: int) -> tuple[list[int], list[int], list[int]]:
    """(P(yes) and kind columns, the state's, the correction's state's) of `features(…, "state")`."""
    state = (width - 5) // 2
    return [0, 1, 2, 3 + state, 4 + state], list(range(3, 3 + state)), list(range(5 + state, width))


def projection(z: np.ndarray, form: Form) -> np.ndarray:
    """Standardised features → the form's inputs, as one matrix (so the head stays one dot product)."""
    p_cols, state, correction = column_groups(z.shape[1])
    if form.components is None:
        weights = np.ones(z.shape[1])
        weights[p_cols] = form.p_weight
        return np.diag(weights)
    blocks = [np.eye(z.shape[1])[:, p_cols] * form.p_weight]
    for cols in (state, correction):
        basis = np.linalg.svd(z[:, cols], full_matrices=False)[2][: form.components].T
        block = np.zeros((z.shape[1], basis.shape[1]))
        block[cols] = basis
        blocks.append(block)
    return np.hstack(blocks)


def fitted(run: EvalRun, form: Form) -> ProbeHead:
    from sklearn.linear_model import LogisticRegression

    points = labelled_points(run)
    x = features(points.kinds, points.signals, True, "state")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    p = projection(z, form)
    model = LogisticRegression(C=form.c, max_iter=3000).fit(z @ p, points.labels)
    return ProbeHead(mean=mean, scale=scale, coef=p @ model.coef_[0],
                     intercept=float(model.intercept_[0]), thresholds=Thresholds(0.5, 0.5),
                     review_below=0.0, use_state=True, meta={"name": str(form)}, contrast="state")


def held_out(bank: Bank, run: EvalRun, group: Callable[[GoldAnswer], str | None], form: Form) -> Tally:
    tally = Tally()
    for value in sorted({k for g in run.gold if (k := group(g))}):
        rest, held = parted(run, group, value)
        tally.add(value, rescore_run(bank, held, fitted(rest, form), with_doubt=False))
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_fit_inputs(parser, "reference answer (unused: nothing is written)")
    parser.add_argument("--pairs", type=Path, action="append", required=True,
                        help="a saved run of contrast pairs")
    args = parser.parse_args()
    bank, run, refs = fit_inputs(args)
    pairs = pairs_of(bank, args.pairs)
    print("| form | held-out sources: above band, Week 6 / SciEntsBank; band accuracy | held-out families: "
          "above band; band accuracy | reference answers full, typed / unpunct. | contrast pairs |")
    print("|---|---|---|---|---|")
    for form in FORMS:
        s, f = held_out(bank, run, by_source, form), held_out(bank, run, by_family, form)
        head = fitted(run, form)
        read = rescore_run(bank, refs, head, with_doubt=False)
        print(f"| {form} | {s.week6_above} / {s.other_above}; {s.accuracy:.3f} | "
              f"{f.week6_above}; {f.accuracy:.3f} | "
              f"{refs_full(read)} | "
              f"{point_counts(rescore_run(bank, pairs, head, with_doubt=False))} |", flush=True)


if __name__ == "__main__":
    main()
