"""What grading returns: a `Grade` made of per-point `Verdict`s."""

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Cutoffs(BaseModel):
    """Where the bands begin: a course may set its own (`course.toml`, `[bands]`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    fail_below: float = Field(default=0.3, gt=0, lt=1)
    full_from: float = Field(default=0.8, gt=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> "Cutoffs":
        if self.fail_below >= self.full_from:
            raise ValueError(f"fail_below ({self.fail_below}) must be below full_from ({self.full_from})")
        return self


DEFAULT_CUTOFFS = Cutoffs()


class Band(StrEnum):
    FAIL = "fail"
    PARTIAL = "partial"
    FULL = "full"

    @classmethod
    def of(cls, score: float, cutoffs: Cutoffs = DEFAULT_CUTOFFS) -> "Band":
        """The one band rule."""
        if score < cutoffs.fail_below:
            return cls.FAIL
        return cls.PARTIAL if score < cutoffs.full_from else cls.FULL


class Outcome(StrEnum):
    HIT = "hit"  # a key point stated, a number right
    MISS = "miss"  # a key point or number absent
    WRONG = "wrong"  # a number given but wrong, or a misconception stated
    CLEAR = "clear"  # a misconception not stated


class Verdict(BaseModel):
    """The judgment on one key point, misconception or numeric check."""

    model_config = ConfigDict(extra="forbid")

    point_id: str
    kind: Literal["key_point", "misconception", "numeric"]
    claim: str
    outcome: Outcome
    confidence: float = Field(ge=0, le=1)  # calibrated P(the claim is stated); 1.0 for numeric checks
    evidence: str | None = None  # the learner's own words, verbatim
    detail: str | None = None  # a correction, or expected-vs-found for numbers
    pointer: str  # "§4.3 — MQA vs GQA"
    # the probe step's raw signals, kept so a new head or threshold re-scores without the model
    p_yes: float | None = None
    state: str | None = None  # hidden state at the probe's last token: base64 of float16
    contrast_p_yes: float | None = None  # a misconception's correction, probed the same way
    contrast_state: str | None = None


class Grade(BaseModel):
    """A graded answer; `status="ungraded"` means we could not grade it (never a silent 0)."""

    model_config = ConfigDict(extra="forbid")

    question_id: str
    status: Literal["graded", "ungraded"] = "graded"
    reason: str | None = None
    score: float | None = Field(default=None, ge=0, le=1)
    band: Band | None = None
    verdicts: list[Verdict] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    pointer: str = ""
    model: str = ""
    mode: str = ""  # how the judge ran: "logprobs", "structured", "none" (no model call)
    rubric_version: str = ""
    head: str = ""  # what turned signals into verdicts: a trained head's name, or "p_yes"
    band_probability: float | None = None  # P(this band is the examiner's), from the verdicts
    review: bool = False  # the grader is unsure of the band: a person (or a follow-up) should check
    uncertain: list[str] = Field(default_factory=list)  # point ids that could flip the band

    @classmethod
    def ungraded(cls, question_id: str, reason: str, **extra: Any) -> "Grade":
        return cls(question_id=question_id, status="ungraded", reason=reason, **extra)

    def shown_json(self) -> str:
        """The grade as JSON for people and scripts: without the hidden states, which are
        raw model data kept in history and batch results for re-scoring."""
        return self.model_dump_json(indent=2, exclude={"verdicts": {"__all__": {"state", "contrast_state"}}})

    def by_kind(self, kind: str) -> list[Verdict]:
        return [v for v in self.verdicts if v.kind == kind]

    @property
    def decided(self) -> tuple[float, Band]:
        """(score, band) of a graded answer; an ungraded one has neither, and asking is a bug."""
        if self.score is None or self.band is None:
            raise ValueError(f"{self.question_id} was not graded ({self.reason})")
        return self.score, self.band

    def missed(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.outcome in (Outcome.MISS, Outcome.WRONG)]
