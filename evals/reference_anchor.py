"""Per-question calibration on the rubric's own reference answer (issue 26 item 2: "try per-kind or
per-question calibration"), measured on saved signals, no model call.

The shipped head reads about a third of the rubrics' reference answers as `partial`: on some
points it is unsure of every answer, the author's complete one included ("RAG is better for
private or proprietary knowledge…": P(yes) 0.76, the head 0.28). A rubric ships its reference
answer, so the judge can read it once per question and learn how sure it gets of each point when
the point is certainly stated. **Anchoring** moves each judged point's logit by what lifts the
reference answer's probability of that point to `target` (a misconception: lowers it to
1 − target), by at most `cap` logits and never the other way: a point the judge already reads
well in the reference answer is left as it is. With it, the global key-point threshold may rise
(`g`) without losing the reference answers. Each setting is measured:

- the reference answers full, typed / unpunctuated (the shipped head; anchored on the typed ones,
  so the typed count is close to true by construction and the unpunctuated one is the check);
- leave one source out, and one attack family out: each group's head fitted without it
  (`evals/reference_fit.fitted`), its anchors read from that head's own reading of the reference
  answers; the held-out Week 6 answers above the examiner's band, SciEntsBank train's (no
  reference answer of its own: the threshold alone moves it), and band accuracy over all;
- the three writers' contrast pairs (`evals/contrast_pairs/`, never in any head's fit): complete
  answers' points credited, bare mentions refused.

    .venv/bin/python evals/reference_anchor.py --run evals/out/sep/dev/results.jsonl \\
        --run evals/out/sep/writers/results.jsonl --semeval evals/out/semeval/scientsbank-train \\
        --semeval-run run-sep --refs evals/out/sep/refs/results.jsonl \\
        --refs-labelled evals/out/refs/labelled.jsonl \\
        --pairs evals/out/pairs/cpA/results.jsonl --pairs evals/out/pairs/cpB/results.jsonl \\
        --pairs evals/out/pairs/cpC/results.jsonl
"""

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals.contrast_fit import pairs_of, point_counts  # noqa: E402
from evals.reference_fit import add_fit_inputs, fit_inputs, fitted, full_counts, parted  # noqa: E402
from tutor.core.answer import prepare  # noqa: E402
from tutor.core.bank import Bank  # noqa: E402
from tutor.core.decide import Head, compute_score, doubt, judged_outcome, logit, shipped_head, stated_from  # noqa: E402
from tutor.core.result import Grade, Verdict  # noqa: E402
from tutor.teacher.evaluation import EvalRun, GoldAnswer, above_band, metrics, rescore_run  # noqa: E402
from tutor.teacher.generalisation import by_family, by_source  # noqa: E402

Anchors = dict[tuple[str, str], float]  # (question, point) → the head's P(stated) on the reference answer


@dataclass(frozen=True)
class Setting:
    threshold: float  # the key-point threshold g (misconceptions stay at the head's)
    target: float | None = None  # None: no anchoring
    cap: float = 0.0

    def __str__(self) -> str:
        anchor = "none" if self.target is None else f"target {self.target}, cap {self.cap:g}"
        return f"g {self.threshold}, anchor {anchor}"


SETTINGS = [Setting(g, t, c) for g in (0.5, 0.6, 0.7)
            for t, c in ((None, 0.0), (0.6, 1.0), (0.7, 2.0), (0.8, 2.0), (0.8, 3.0))]


def anchors_of(bank: Bank, refs: EvalRun, head: Head) -> Anchors:
    """The head's probability of each point on each rubric's typed reference answer."""
    read = rescore_run(bank, refs, head, with_doubt=False)
    return {(g.question_id, v.point_id): v.confidence for g, grade in zip(read.gold, read.grades, strict=True)
            if g.source == "reference-typed"
            for v in grade.verdicts if v.kind != "numeric"}


def shift(kind: str, reference: float, setting: Setting) -> float:
    """The logit added to the point's probability: towards the target only, at most `cap`."""
    if setting.target is None:
        return 0.0
    if kind == "key_point":
        return min(setting.cap, max(0.0, logit(setting.target) - logit(reference)))
    return max(-setting.cap, min(0.0, logit(1 - setting.target) - logit(reference)))


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def anchored_verdict(bank: Bank, gold: GoldAnswer, v: Verdict, head: Head, anchors: Anchors,
                     setting: Setting) -> Verdict:
    reference = anchors.get((gold.question_id, v.point_id))
    if v.kind == "numeric" or reference is None:
        return v
    p = round(sigmoid(logit(v.confidence) + shift(v.kind, reference, setting)), 3)
    stated = p >= stated_from(bank.get(gold.question_id), v.kind, head)
    return v.model_copy(update={"confidence": p, "outcome": judged_outcome(v.kind, stated)})


def anchored_grade(bank: Bank, gold: GoldAnswer, grade: Grade, head: Head, anchors: Anchors,
                   setting: Setting) -> Grade:
    """The decide step of grading (`grader.finish`), each judged point shifted first."""
    if grade.status != "graded" or not grade.head:
        return grade
    rubric = bank.get(gold.question_id)
    verdicts = [anchored_verdict(bank, gold, v, head, anchors, setting) for v in grade.verdicts]
    term_list = prepare(gold.answer).keyword_list
    score = compute_score(rubric, {v.point_id: v.outcome for v in verdicts}, term_list)
    sure = doubt(rubric, verdicts, term_list, head.review_below, head.band_map)
    return grade.model_copy(update={"verdicts": verdicts, "score": score, "band": rubric.band_of(score),
                                    "band_probability": sure.band_probability, "review": sure.review,
                                    "uncertain": sure.uncertain})


def decided(bank: Bank, run: EvalRun, head: Head, anchors: Anchors, setting: Setting) -> EvalRun:
    """`run` decided by `head` at the setting's key-point threshold, anchored."""
    at = head.with_thresholds(setting.threshold, None)
    read = rescore_run(bank, run, at, with_doubt=False)
    grades = [anchored_grade(bank, g, x, at, anchors, setting)
              for g, x in zip(read.gold, read.grades, strict=True)]
    return EvalRun(run.gold, grades, run.seconds)


def refs_full(graded: EvalRun) -> str:
    """The reference answers in the top band: "typed / unpunctuated"."""
    counts = full_counts(graded)
    return f"{counts.get('reference-typed', 0)} / {counts.get('reference-unpunctuated', 0)}"


@dataclass
class Tally:
    """Held-out groups added up: answers above the examiner's band, right bands, answers; and
    each group's band accuracy."""

    week6_above: int = 0
    other_above: int = 0
    right: int = 0
    answers: int = 0
    by_group: dict[str, float] = field(default_factory=dict)

    def add(self, group: str, run: EvalRun) -> None:
        m = metrics(run)
        graded = m.answers - m.ungraded
        self.right += round(m.band_accuracy * graded)
        self.answers += graded
        self.by_group[group] = m.band_accuracy
        week6 = not group.startswith("semeval")
        if week6:
            self.week6_above += above_band(run)
        else:
            self.other_above += above_band(run)

    @property
    def accuracy(self) -> float:
        return self.right / max(1, self.answers)

    def largest_fall(self, before: "Tally") -> str:
        """The group whose band accuracy falls most against `before`, and by how much."""
        group = min(self.by_group, key=lambda k: self.by_group[k] - before.by_group[k])
        return f"{group} {self.by_group[group] - before.by_group[group]:+.3f}"


def held_out(bank: Bank, run: EvalRun, refs: EvalRun,
             group: Callable[[GoldAnswer], str | None]) -> list[Tally]:
    """One tally per setting, each group decided by a head fitted without it."""
    tallies = [Tally() for _ in SETTINGS]
    for value in sorted({k for g in run.gold if (k := group(g))}):
        rest, held = parted(run, group, value)
        head = fitted(bank, rest, None)
        anchors = anchors_of(bank, refs, head)
        for tally, setting in zip(tallies, SETTINGS, strict=True):
            tally.add(value, decided(bank, held, head, anchors, setting))
    return tallies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_fit_inputs(parser, "reference answer (unused: nothing is written)")
    parser.add_argument("--pairs", type=Path, action="append", default=[],
                        help="a saved run of contrast pairs")
    args = parser.parse_args()
    bank, run, refs = fit_inputs(args)
    pairs = pairs_of(bank, args.pairs)
    head = shipped_head()
    assert head is not None
    anchors = anchors_of(bank, refs, head)
    sources = [] if args.no_held_out else held_out(bank, run, refs, by_source)
    families = [] if args.no_held_out else held_out(bank, run, refs, by_family)
    print("| setting | reference answers full, typed / unpunct. (of 33) | held-out sources: Week 6 / "
          "SciEntsBank above band, band accuracy, largest fall of one source | held-out families: above "
          "band, band accuracy | contrast pairs |")
    print("|---|---|---|---|---|")
    for n, setting in enumerate(SETTINGS):
        refs_read = decided(bank, refs, head, anchors, setting)
        cells = [str(setting), refs_full(refs_read)]
        if sources:
            s, f = sources[n], families[n]
            cells += [f"{s.week6_above} / {s.other_above}, {s.accuracy:.3f}, {s.largest_fall(sources[0])}",
                      f"{f.week6_above}, {f.accuracy:.3f}"]
        if args.pairs:
            cells.append(point_counts(decided(bank, pairs, head, anchors, setting)))
        print(f"| {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
