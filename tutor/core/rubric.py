"""The rubric format: what an answer to one question must state.

Rubrics are data (YAML under `rubrics/`); these models validate them with
`extra="forbid"` so a typo in a key fails loudly instead of being ignored.
"""

import hashlib
import re
import unicodedata
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from tutor.core.result import DEFAULT_CUTOFFS, Band, Cutoffs

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Day(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    WEEKEND = "weekend"


class Strict(BaseModel):
    # a nan or inf anywhere (`expected: .nan`, `weight: .inf`) would silently zero a score
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SectionRef(Strict):
    """A pointer into the explainer, e.g. section "4.3", title "MQA vs GQA"."""

    section: Annotated[str, StringConstraints(pattern=r"^(ELI5|\d+(\.\d+)*)$")]
    title: Text

    @property
    def label(self) -> str:
        prefix = "" if self.section == "ELI5" else "§"
        return f"{prefix}{self.section} — {self.title}"


class KeyPoint(Strict):
    """One checkable claim a good answer states."""

    id: Slug
    claim: Text  # the examiner's wording, shown in feedback
    probe: Text | None = None  # the minimal form the judge is asked about (defaults to claim)
    weight: float = Field(default=1.0, gt=0)
    essential: bool = False

    @property
    def asked(self) -> str:
        """What the judge is asked about: the minimal probe form when there is one."""
        return self.probe or self.claim


class Misconception(Strict):
    """A wrong claim worth catching, with what is true instead."""

    id: Slug
    claim: Text
    correction: Text
    penalty: float = Field(default=0.25, gt=0, le=1)

    @property
    def asked(self) -> str:
        return self.claim


class NumericCheck(Strict):
    """A number the answer must contain, compared with units converted by pint."""

    id: Slug
    quantity: Text  # what the number is, in words: "fp16 weight memory of a 70B model"
    expected: float
    unit: Text  # a pint unit: "GB", "GiB", "KiB", "byte", "param"
    tolerance: float = Field(default=0.1, gt=0, lt=1)  # relative
    accept: list[Text] = Field(default_factory=list)  # units a learner may use; [] = any of unit's kind
    weight: float = Field(default=1.0, gt=0)
    essential: bool = True


class FollowUp(Strict):
    """What an oral examiner asks when `key_point` is missed."""

    key_point: Slug
    ask: Text


class Rubric(Strict):
    id: Slug
    day: Day
    question: Text  # exactly as the deck words it
    context: str | None = None  # data the deck leaves out but the question needs
    refs: list[SectionRef] = Field(min_length=1)
    key_points: list[KeyPoint] = Field(min_length=1)
    at_least: int | None = Field(default=None, gt=0)  # list questions: k of the key points suffice
    misconceptions: list[Misconception] = Field(default_factory=list)
    numeric: list[NumericCheck] = Field(default_factory=list)
    reference_answer: Text
    follow_ups: list[FollowUp] = Field(min_length=1, max_length=3)
    reviewed: bool = True  # False for drafts a model wrote and no author has checked
    bands: Cutoffs | None = None  # the course's band cut-offs (`course.toml`) unless set here

    @model_validator(mode="after")
    def _consistent(self) -> "Rubric":
        if self.at_least is not None and self.at_least > len(self.key_points):
            raise ValueError(
                f"at_least is {self.at_least} but there are only {len(self.key_points)} key_points"
            )
        ids = [p.id for p in self.key_points] + [m.id for m in self.misconceptions]
        ids += [n.id for n in self.numeric]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate point ids: {', '.join(duplicates)}")
        known = {p.id for p in self.key_points}
        for follow_up in self.follow_ups:
            if follow_up.key_point not in known:
                raise ValueError(f"follow_ups names unknown key_point '{follow_up.key_point}'")
        return self

    @property
    def prompt(self) -> str:
        """What the learner sees: the deck's words, plus any data the deck leaves out."""
        return f"{self.question}\n{self.context}" if self.context else self.question

    @property
    def pointer(self) -> str:
        return "; ".join(ref.label for ref in self.refs)

    @property
    def version(self) -> str:
        """A short content hash: grades and caches name the rubric version they used."""
        unset = {"bands"} if self.bands is None else None  # rubrics from before `bands` keep their hash
        return hashlib.sha256(self.model_dump_json(exclude=unset).encode()).hexdigest()[:12]

    def band_of(self, score: float) -> Band:
        return Band.of(score, self.bands or DEFAULT_CUTOFFS)

    def sections(self) -> list[str]:
        return [ref.section for ref in self.refs]

    def follow_up_for(self, key_point_id: str) -> str | None:
        return next((f.ask for f in self.follow_ups if f.key_point == key_point_id), None)


QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "`": "'"})


def fold_ref(text: str) -> str:
    """A reference as typed or pasted, folded: compatibility forms (NFKC), invisible format
    characters dropped (a zero-width space, a BOM), every dash and a run of hyphens (`--`)
    one `-`, quote styles one, surrounding quotes and spaces gone, lower case."""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")
    text = "".join("-" if unicodedata.category(ch) == "Pd" else ch for ch in text).translate(QUOTES)
    text = re.sub(r"-{2,}", "-", re.sub(r"\s+", " ", text)).strip()
    while len(text) > 1 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text.casefold()


def normalize_text(text: str) -> str:
    """Fold quote styles, dashes, case, whitespace and the closing punctuation (a question
    copied without its `?`) so deck text matches loosely (`fold_ref`)."""
    return fold_ref(text).rstrip("?.!:; ")
