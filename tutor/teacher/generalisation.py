"""Measuring the grader where it will be used: on writers and attack families it was not tuned on.

The project's own figures come from answers written by the writers of the head's training split,
and a head or threshold tuned on one group of writers does not carry over to the next. So a
held-out report takes one group at a time out of everything (a source: who wrote the answers; or
an attack family): the head is fitted, and its C and review cut-off chosen (it decides at 0.5),
on the other groups alone, fitted on most of their questions and tuned on the rest (so tuning sees
questions it was not fitted on); then the held-out group is decided by the same step grading uses
(`rescore_run`). Plain P(yes) gets its thresholds and review cut-off from the same tuning answers,
so the two stand side by side. Nothing here calls the model: it re-decides saved runs' signals.
"""

from collections.abc import Callable
from dataclasses import dataclass

from tutor.core.answer import prepare
from tutor.core.bank import Bank
from tutor.core.console import plural
from tutor.core.decide import PlainHead
from tutor.core.errors import TutorError
from tutor.teacher.calibration import TUNE_SHARE, calibrate, calibrate_doubt, choose_thresholds, fit_and_tune
from tutor.teacher.evaluation import EvalRun, GoldAnswer, above_band, metrics, rescore_run, subset

GroupOf = Callable[[GoldAnswer], str | None]


def by_source(gold: GoldAnswer) -> str | None:
    return gold.source or None


def by_family(gold: GoldAnswer) -> str | None:
    return gold.family


@dataclass
class HeldOut:
    """One group graded by a head fitted and tuned without it, and by plain P(yes) tuned alike."""

    group: str
    head: EvalRun
    plain: EvalRun
    problem: str = ""  # why nothing could be fitted without this group


def held_out(bank: Bank, run: EvalRun, group_of: GroupOf,
             say: Callable[[str], None] = lambda _: None) -> list[HeldOut]:
    """For each group in the run, the group graded without anything tuned on it."""
    groups = sorted({k for g in run.gold if (k := group_of(g))})
    return [_hold_out(bank, run, group_of, group, say) for group in groups]


def _hold_out(bank: Bank, run: EvalRun, group_of: GroupOf, group: str,
              say: Callable[[str], None]) -> HeldOut:
    fitting, tuning = fit_and_tune(subset(run, lambda g: group_of(g) != group))
    held = subset(run, lambda g: group_of(g) == group)
    say(f"without {group}: fit on {plural(len(fitting.gold), 'answer')}, tune on {len(tuning.gold)}")
    try:
        head = calibrate(bank, fitting, tuning, {"name": f"without-{group}"}, say=say)
        plain = calibrate_doubt(bank, tuning, choose_thresholds(bank, tuning, PlainHead()))
    except TutorError as exc:
        return HeldOut(group, held, held, problem=exc.message)
    return HeldOut(group, rescore_run(bank, held, head), rescore_run(bank, held, plain))


def caught_by_patterns(gold: GoldAnswer) -> bool:
    """Whether the answer-side pattern lists act on it (a plea, a question or hedge set aside, a
    bare keyword list): the leave-one-family-out report separates those from new phrasings."""
    prepared = prepare(gold.answer)
    return bool(prepared.removed or prepared.unasserted or prepared.keyword_list)


def _pair(head: float, plain: float) -> str:
    return f"{head:.3f} / {plain:.3f}"


def source_table(results: list[HeldOut]) -> list[str]:
    lines = ["| held-out source | answers | Spearman, head / plain | band accuracy, head / plain "
             "| flagged for review, head | band accuracy on the rest, head | above the examiner's band, "
             "head / plain | band calibration error, head |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        if r.problem:
            lines.append(f"| {r.group} | {len(r.head.gold)} | {r.problem} | | | | | |")
            continue
        h, p = metrics(r.head), metrics(r.plain)
        lines.append(f"| {r.group} | {len(r.head.gold)} | {_pair(h.spearman, p.spearman)} | "
                     f"{_pair(h.band_accuracy, p.band_accuracy)} | {h.review[0]:.3f} | "
                     f"{h.review[1]:.3f} | {above_band(r.head)} / {above_band(r.plain)} | {h.band_ece:.3f} |")
    return lines


def family_table(results: list[HeldOut]) -> list[str]:
    lines = ["| held-out family | answers | above the examiner's band, head / plain | of them new "
             "phrasings (no pattern acts) | new phrasings above the band, head / plain |",
             "|---|---|---|---|---|"]
    for r in results:
        new = [i for i, g in enumerate(r.head.gold) if not caught_by_patterns(g)]
        fresh_head, fresh_plain = (subset_by_index(x, new) for x in (r.head, r.plain))
        lines.append(f"| {r.group} | {len(r.head.gold)} | {_share(r.head, r.plain)} | {len(new)} | "
                     f"{_share(fresh_head, fresh_plain) if new else '—'} |")
    return lines


def subset_by_index(run: EvalRun, indices: list[int]) -> EvalRun:
    return EvalRun([run.gold[i] for i in indices], [run.grades[i] for i in indices], 0.0)


def _share(head: EvalRun, plain: EvalRun) -> str:
    n = max(1, len(head.gold))
    return " / ".join(f"{above_band(run)} ({above_band(run) / n:.2f})" for run in (head, plain))


def held_out_report(bank: Bank, run: EvalRun, say: Callable[[str], None] = lambda _: None) -> str:
    """Leave-one-source-out and leave-one-family-out, as Markdown."""
    sources = held_out(bank, run, by_source, say)
    families = held_out(bank, run, by_family, say)
    return "\n".join([
        f"# Held out: {plural(len(run.gold), 'answer')}, {plural(len(sources), 'source')}, "
        f"{plural(len(families), 'attack family', 'attack families')}", "",
        "Each row: the head fitted (deciding at 0.5) and plain P(yes)'s thresholds, and both review "
        "cut-offs, chosen without that group (fitted on the others' questions, tuned on 1 question "
        f"in {TUNE_SHARE}).",
        "", "## Leave one source out", "", *source_table(sources),
        "", "## Leave one family out", "", *family_table(families), ""])
