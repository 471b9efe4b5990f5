"""What a judge gives for each claim, before any decision, and where it came from.

`decide` turns signals into verdicts; the judges produce them. Both import this module, so
neither needs the other."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Signals:
    """What the model gave for one claim, before any decision: the probe step's output.

    `p_yes` is P(yes) read from the next-token distribution (0 or 1 in structured mode);
    `state` is the model's hidden state at the probe's last token (local backend only),
    the input of a trained judge head. Stored in results so a new head re-scores offline.
    A reference answer that says "decode is memory-bound, not compute-bound" names the
    misconception's words; its correction's probe is what tells the two apart."""

    p_yes: float
    state: "np.ndarray | None" = field(default=None, compare=False)  # float16 values, as stored
    # for a misconception: the same probe of its correction ("decode is memory-bound" beside
    # "decode is compute-bound"), so a head can ask which of the two the answer commits to
    contrast: "Signals | None" = field(default=None, compare=False)


OnSignals = Callable[[int, Signals], None]  # (claim index, its signals), as each probe finishes


@dataclass(frozen=True)
class Provenance:
    """Which signals a backend gives: a trained head applies only to the model file (by its
    SHA-256) and the captured layer (`l_out-<block>`, None when no hidden state is read) it was
    fitted on (`tutor.core.decide.head_for`)."""

    model_sha256: str
    layer: str | None
