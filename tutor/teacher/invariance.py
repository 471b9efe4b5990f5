"""Does a grade survive a change that does not change what was said?

A learner's sentence ends, letter case and line breaks carry no claim, and a spoken answer
arrives with whatever punctuation the recogniser guessed. So the same answer written these
other ways should land in the same band. Each variant below is graded by the same judge and
head as the answer as typed; the report counts the answers whose band moved.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from tutor.core.answer import spoken_form
from tutor.teacher.evaluation import EvalRun


def run_on(text: str) -> str:
    """Every full stop, question and exclamation mark that ends a sentence turned into a comma,
    as a recogniser that hears the words right but not where sentences end would write it."""
    return re.sub(r"[.?!]+(?=\s|$)", ",", text).rstrip(",") + "."


def one_line_lower(text: str) -> str:
    """Lower case, line breaks and runs of spaces made single spaces."""
    return " ".join(text.lower().split())


def unpunctuated(text: str) -> str:
    """A speech transcript without punctuation: lower-case words and numbers, nothing else
    (`tutor.core.answer.spoken_form`)."""
    return spoken_form(text)


VARIANTS: dict[str, Callable[[str], str]] = {
    "sentence ends as commas": run_on,
    "lower case, one line": one_line_lower,
    "transcript, no punctuation": unpunctuated,
}


def slug(variant: str) -> str:
    return re.sub(r"[^a-z]+", "-", variant.lower()).strip("-")


@dataclass
class Moved:
    """How one variant's grades differ from the answers as typed."""

    variant: str
    answers: int
    band_changed: list[str]  # gold ids
    mean_score_change: float


def compare(typed: EvalRun, variant: str, changed: EvalRun) -> Moved:
    pairs = [(g.id, a, b) for g, a, b in zip(typed.gold, typed.grades, changed.grades, strict=True)
             if a.status == b.status == "graded"]
    moved = [gold_id for gold_id, a, b in pairs if a.band != b.band]
    shift = sum(abs(a.decided[0] - b.decided[0]) for _, a, b in pairs) / max(1, len(pairs))
    return Moved(variant, len(pairs), moved, shift)


def table(found: list[Moved]) -> list[str]:
    lines = ["| written as | answers | band changed | mean score change | answers moved |",
             "|---|---|---|---|---|"]
    for m in found:
        shown = ", ".join(m.band_changed[:12]) + (" …" if len(m.band_changed) > 12 else "")
        lines.append(f"| {m.variant} | {m.answers} | {len(m.band_changed)} "
                     f"({len(m.band_changed) / max(1, m.answers):.2f}) | {m.mean_score_change:.3f} | "
                     f"{shown} |")
    return lines
