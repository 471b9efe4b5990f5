"""Numbers in a learner's answer, checked against a rubric's `NumericCheck`s.

Extraction is deterministic: one regex finds number + scale + unit spans, a few
rules drop numbers that label rather than measure (years, question and list
numbers), and pint does every unit conversion.

Domain conventions (LLM serving arithmetic):
- a `B` right after a number means *billion*: "70B", "7b model" are parameter
  counts. Bytes are written "bytes"/"byte" or with a prefix ("GB", "GiB", "KB").
  Exception: after an exponent or a magnitude of 1000 or more ("1.4e11 B",
  "327,680 B") nobody means billions, so there `B` is bytes.
- "8K context" and "8K-token" are token counts; "32 concurrent", "32 users",
  "32 sequences" are request counts.
- rates ("GB/s", "tokens/s") are not amounts and are dropped.
"""

import functools
import math
import pathlib
import re
from dataclasses import dataclass

import pint
from pydantic import BaseModel

from tutor.rubric import NumericCheck

# Counted things are base dimensions of their own, so a parameter never converts to a token.
_CUSTOM_UNITS = (
    "parameter = [parameter] = param = params",
    "token = [token] = tokens",
    "request = [request] = requests",
)

# The kinds of amount an answer states, with the pint unit that fixes each one's dimension.
_KIND_UNITS = {
    "bytes": "byte",
    "params": "param",
    "tokens": "token",
    "requests": "request",
    "number": "dimensionless",
}
_KIND_NOUNS = {
    "bytes": "memory amount",
    "params": "parameter count",
    "tokens": "token count",
    "requests": "request count",
    "number": "number",
}
_SCALES = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9, "t": 1e12, "trillion": 1e12,
}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")

_NUM = r"[0-9]{1,3}(?:[,_][0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+"
_QUANTITY = re.compile(
    rf"""
    (?<![A-Za-z0-9_.^§\#$€£])               # not in a word, label or price: fp16, Q3, v1.5, §4, $2
    (?<![0-9],)                              # nor the tail of a grouped number: $2,000
    (?P<approx>(?:~=?|≈|≃|∼)\s*)?           # ~140GB, ≈ 140 GB
    (?:
        (?:(?P<coef>{_NUM})\s*[×xX*·]\s*)?  # 1.4 × 10^11, 1.4x10^11, or a bare 10^11
        10\s*(?:(?:\^|\*\*)\s*(?P<pow>[+-]?[0-9]{{1,3}})|(?P<sup>[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]{{1,3}}))
      | (?P<num>{_NUM})                      # 140, 131,072, 0.13
        (?:[eE](?P<exp>[+-]?[0-9]{{1,3}}))?  # 1.4e11
    )
    (?P<scale>                               # 131k, 0.13M, 70B, 70 B, 70 billion
        [kKMbT](?![A-Za-z])                  # one letter, attached, not the start of a unit (MB)
      | \s?B(?![A-Za-z])                     # B may stand apart: "70 B"
      | \s?(?i:thousand|million|billion|bn|trillion)\b
    )?
    (?:\s*-?\s*(?P<unit>                     # what is counted; "-" for "8K-token", "2-byte"
        (?P<bytes>[kKmMgGtTpP]i?[bB](?:ytes?|s)?
          | (?i:(?:kilo|mega|giga|tera|peta|kibi|mebi|gibi|tebi|pebi)?bytes?))
      | (?P<params>(?i:param(?:eter)?s?))
      | (?P<tokens>(?i:tokens?|toks?|context|ctx))
      | (?P<requests>(?i:(?:concurrent\s+)?(?:requests?|reqs?|sequences?|seqs?|users?
                          |streams?|clients?)|concurrent))
    ))?
    (?![A-Za-z0-9_])                         # ends at a word boundary: not "3rd", "2x", "140G"
    (?P<rate>\s*(?:/\s*s(?:ec)?|per\s+s(?:ec(?:ond)?)?)\b)?  # GB/s, tokens/s: a rate, dropped
    """,
    re.VERBOSE,
)
_LONG_BYTES = re.compile(r"(?:kilo|mega|giga|tera|peta|kibi|mebi|gibi|tebi|pebi)?bytes?")
# Words after which a bare number is a label: "question 4", "step 1", "layer 3", "no. 2".
_LABEL_BEFORE = re.compile(
    r"\b(?:questions?|q|steps?|parts?|items?|points?|sections?|sec|chapters?|ch|no|nos"
    r"|numbers?|figs?|figures?|tables?|eqs?|equations?|options?|answers?|cases?|layer|"
    r"version|v)\.?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Found:
    """One amount stated in an answer, in the unit the learner wrote."""

    text: str  # verbatim span: "~140GB", "131k", "1.4e11 bytes"
    start: int  # offset of `text` in the answer
    quantity: pint.Quantity  # 140 gigabyte, 131000 param, 8000 dimensionless
    kind: str  # "bytes" | "params" | "tokens" | "requests" | "number"


class NumericOutcome(BaseModel):
    check_id: str
    passed: bool
    expected: str  # "≈ 140 GB (±10%)"
    matched: str | None  # the verbatim span that passed, if any
    found: list[str]  # verbatim spans of every candidate of the check's kind
    detail: str  # one sentence of feedback


@functools.cache
def ureg() -> pint.UnitRegistry:
    """The registry: pint's defaults, with information as a dimension, plus counted units.

    pint (0.24/0.25) defines `bit = []`, which makes bytes dimensionless: 5 would then
    convert to 5 GB and a parameter count would pass a memory check. The default
    definitions are loaded with `bit = [information]` instead.
    """
    folder = pathlib.Path(pint.__file__).parent
    registry = pint.UnitRegistry(None, cache_folder=None)
    registry.load_definitions(folder / "constants_en.txt")
    lines = (folder / "default_en.txt").read_text(encoding="utf-8").splitlines()
    registry.load_definitions(
        ["bit = [information]" if line.strip() == "bit = []" else line
         for line in lines if not line.startswith("@import")]
    )
    for definition in _CUSTOM_UNITS:
        registry.define(definition)
    if registry.Unit("byte").dimensionless:
        raise RuntimeError("pint's default definitions changed: bytes are dimensionless")
    return registry


def extract_quantities(text: str) -> list[Found]:
    """Every amount stated in `text`, in order; labels, years and rates are left out."""
    if not isinstance(text, str):
        return []
    found = []
    for match in _QUANTITY.finditer(text):
        item = _found(match)
        if item is not None and not _is_label(text, match, item):
            found.append(item)
    return found


def evaluate(check: NumericCheck, answer: str) -> NumericOutcome:
    """Whether `answer` states `check.expected` (within tolerance) in a unit of its kind."""
    expected = f"≈ {_amount(check.expected, check.unit)} (±{_percent(check.tolerance)})"
    target = _parse_unit(check.unit)
    kind = _kind_of(target) if target is not None else None
    if target is None or kind is None:
        detail = f"the rubric unit '{check.unit}' cannot be checked"
        return NumericOutcome(check_id=check.id, passed=False, expected=expected,
                              matched=None, found=[], detail=detail)
    accepted = [u for u in map(_parse_unit, check.accept) if u is not None]
    found = extract_quantities(answer)
    candidates = [(f, value) for f in found
                  if (value := _value_in(f, target, kind, accepted)) is not None]
    best = min(candidates, key=lambda c: abs(c[1] - check.expected), default=None)
    passed = best is not None and _within(best[1], check.expected, check.tolerance)
    if passed:
        detail = f"found {_described(*best, check.unit)}, within {_percent(check.tolerance)} " \
                 f"of {_amount(check.expected, check.unit)}"
    else:
        detail = _miss_detail(check, kind, candidates, [f for f in found if f.kind == kind])
    return NumericOutcome(
        check_id=check.id, passed=passed, expected=expected,
        matched=best[0].text if passed else None,
        found=[f.text for f, _ in candidates], detail=detail,
    )


def unit_problem(check: NumericCheck) -> str | None:
    """For rubric validation: a one-line message if the check's units cannot work, else None."""
    target = _parse_unit(check.unit)
    if target is None:
        return f"unit '{check.unit}' is not a known unit"
    if _kind_of(target) is None:
        return (f"unit '{check.unit}' is not an amount of bytes, parameters, tokens or "
                "requests, or a plain number")
    for name in check.accept:
        unit = _parse_unit(name)
        if unit is None:
            return f"accept unit '{name}' is not a known unit"
        if unit.dimensionality != target.dimensionality:
            return f"accept unit '{name}' does not measure the same thing as unit '{check.unit}'"
    return None


# --- extraction -----------------------------------------------------------------------------


def _found(match: re.Match[str]) -> Found | None:
    """The `Found` for one regex match, or None for rates and numbers too large for a float."""
    if match["rate"]:
        return None
    exponent = match["pow"] or (match["sup"] or "").translate(_SUPERSCRIPTS) or match["exp"]
    mantissa = (match["num"] or match["coef"] or "1").replace(",", "").replace("_", "")
    value = float(f"{mantissa}e{exponent or 0}")
    kind, unit = _kind_and_unit(match)
    scale = (match["scale"] or "").strip()
    if scale in ("B", "b") and not match["unit"] and (exponent or value >= 1000):
        kind, unit, scale = "bytes", "byte", ""  # "1.4e11 B", "327,680 B": bytes, not billions
    value *= _SCALES.get(scale.lower(), 1.0)
    if not math.isfinite(value):
        return None
    return Found(match[0], match.start(), ureg().Quantity(value, _parse_unit(unit)), kind)


def _kind_and_unit(match: re.Match[str]) -> tuple[str, str]:
    """The kind of a match and the pint unit it was written in."""
    if match["bytes"]:
        return "bytes", _byte_unit(match["bytes"])
    for kind in ("params", "tokens", "requests"):
        if match[kind]:
            return kind, _KIND_UNITS[kind]
    if (match["scale"] or "").strip() in ("B", "b"):
        return "params", "param"  # "70B" alone is a model size
    return "number", "dimensionless"


def _byte_unit(word: str) -> str:
    """pint's spelling of a byte unit as learners write it: "gb" → "GB", "KB" → "kB"."""
    lower = word.lower()
    if _LONG_BYTES.fullmatch(lower):
        return lower  # "bytes", "gigabytes": pint knows the names
    binary = lower[1:2] == "i"  # "GiB", "gib", "GiBytes"
    prefix = word[0].upper() if binary or word[0] not in "kK" else "k"
    return f"{prefix}{'i' if binary else ''}B"


def _is_label(text: str, match: re.Match[str], item: Found) -> bool:
    """Whether a bare number names something (a year, a question, a list item) rather than
    measuring it. Only bare integers qualify: "2024 tokens" or "3.5" are amounts."""
    raw = match["num"] or ""
    if item.kind != "number" or match["scale"] or match["exp"] or not raw.isdigit():
        return False
    start, end = match.start("num"), match.end("num")
    if not match["approx"] and 1900 <= int(raw) <= 2100 and raw != "2048":
        return True  # a year; 2048 is a context length far more often than a year
    if _LABEL_BEFORE.search(text[max(0, start - 12):start]):
        return True
    before = text[max(0, start - 8):start]  # a bounded look back keeps long answers linear
    opens_line = "\n" in before or start == len(before)
    after = text[end:end + 2]
    if opens_line and before.rsplit("\n", 1)[-1].strip() in ("", "(", "[") \
            and re.match(r"[.):\]]\s", after + " "):
        return True  # "3. …", "(2) …", "2) …" opening a line
    return after[:1] == ")" and (start == 0 or text[start - 1] in " \t(")  # "… 2) …", "(2)"


# --- comparison -----------------------------------------------------------------------------


@functools.cache
def _parse_unit(name: str) -> pint.Unit | None:
    """`name` as a pint unit, or None. Any parse failure counts: rubric text is arbitrary.

    Cached: pint parses a unit string afresh on every `Quantity(value, "GB")`.
    """
    try:
        unit = ureg().Unit(re.sub(r"\bKB\b", "kB", name.strip()))  # KB is as common as kB
    except Exception:  # pint raises several unrelated types for malformed input
        return None
    return unit


def _kind_of(unit: pint.Unit) -> str | None:
    """The kind of amount `unit` measures, or None if answers never state such amounts."""
    return next((kind for kind, name in _KIND_UNITS.items()
                 if _parse_unit(name).dimensionality == unit.dimensionality), None)


def _value_in(found: Found, target: pint.Unit, kind: str,
              accepted: list[pint.Unit]) -> float | None:
    """`found` converted to `target`, or None if it is not a candidate for the check.

    Bare numbers of 1000 or more stand for parameter counts: learners often omit "params".
    """
    quantity = found.quantity
    if found.kind == "number" and kind == "params" and quantity.magnitude >= 1000:
        quantity = ureg().Quantity(quantity.magnitude, "param")
    elif found.kind != kind or (accepted and quantity.units not in accepted):
        return None
    return float(quantity.to(target).magnitude)


def _within(value: float, expected: float, tolerance: float) -> bool:
    return abs(value - expected) <= tolerance * abs(expected) * (1 + 1e-9)


def _miss_detail(check: NumericCheck, kind: str, candidates: list[tuple[Found, float]],
                 same_kind: list[Found]) -> str:
    """One sentence naming what was expected and what the answer gave instead."""
    expected = _amount(check.expected, check.unit)
    if candidates:
        shown = [_described(f, value, check.unit) for f, value in candidates[:3]]
        more = f" and {len(candidates) - 3} more" if len(candidates) > 3 else ""
        return f"expected ≈ {expected}, found {', '.join(shown)}{more}"
    if same_kind:  # a right-kind amount in a unit the rubric does not accept
        return (f"expected ≈ {expected}; found {same_kind[0].text}, but the answer must use "
                f"{' or '.join(check.accept)}")
    return f"expected ≈ {expected}; no {_KIND_NOUNS[kind]} found in the answer"


def _described(found: Found, value: float, unit: str) -> str:
    """The learner's own words, with the conversion when it says something new:
    "130 GiB (≈ 139.6 GB)", "131k (≈ 131,000 params)", but just "70 GB"."""
    converted = _amount(value, unit)
    written = _squashed(found.text.lstrip("~≈≃∼= "))
    same = written in (_squashed(converted), _squashed(_number(value)))  # "70 GB", "131,072"
    return found.text if same else f"{found.text} (≈ {converted})"


def _squashed(text: str) -> str:
    return re.sub(r"[\s,]", "", text).casefold()


def _amount(value: float, unit: str) -> str:
    """"140 GB", "131,072 params", "70 billion params": the rubric's unit as written,
    made plural for counted things."""
    label = unit.strip()
    if label in ("param", "token", "request") and value != 1:
        label += "s"
    return f"{_number(value)} {label}"


def _number(value: float) -> str:
    """A readable number: "131,072", "139.6", "70 billion", "2.684e-09"."""
    size = abs(value)
    if not math.isfinite(value) or size >= 1e15 or 0 < size < 1e-3:
        return f"{value:.4g}"
    for word, scale in (("trillion", 1e12), ("billion", 1e9), ("million", 1e6)):
        if size >= max(scale, 1e7):
            return f"{_number(value / scale)} {word}"
    if value == round(value):
        return f"{round(value):,}"
    return f"{value:,.0f}" if size >= 1e4 else f"{value:.4g}"


def _percent(tolerance: float) -> str:
    return f"{tolerance * 100:g}%"
