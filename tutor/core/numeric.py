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

Several amounts joined only by separators form a list ("70, 140 or 280 GB"); a unit written once
at its end belongs to every member. Whether an answer commits is a rule about amounts, not
separators or words: distinct values of the check's kind said of the same thing (the same words
around them, or one clause's words all among the other's, once hedges and fillers are set aside)
are alternatives when there are more of them than the rubric asks for of that kind, in any layout
or wording ("70 GB & 140 GB", "My guess: 140 GB. Other guess: 280 GB.", "140 GB 260 GiB"), and
an offered value never passes a check. A list joined by "or", "maybe" offers alternatives with
two. Not alternatives: the steps of a derivation (a clause with an operator and a result sign,
"70e9 x 2 bytes = 140 GB", "140 GB / 80 GB = 2"), the same value in two units ("140 GB (130 GiB)"),
and amounts said of something else ("an 80 GB GPU", "320 KB per token").
With several checks of one kind (7B, 13B and 70B weights), each amount answers the check
whose own amounts ("7B") stand nearest before it in its clause, else the list position,
else the closest value; one amount answers one check.
"""

import bisect
import dataclasses
import functools
import math
import pathlib
import re
from dataclasses import dataclass

import pint
from pydantic import BaseModel

from tutor.core.rubric import NumericCheck

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
    (?:(?<![A-Za-z0-9_.^§\#$€£])            # not in a word, label or price: fp16, Q3, v1.5, §4, $2
       |(?<=[A-Za-z]{{2}}\.))                # but after a word's full stop: "140 GB.280 GB."
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
    quantity: pint.Quantity[float]  # 140 gigabyte, 131000 param, 8000 dimensionless
    kind: str  # "bytes" | "params" | "tokens" | "requests" | "number"
    scale: float = 1.0  # the written scale word's factor: 1e9 for "70B", 1e3 for "131k"
    end: int = 0  # offset just past `text`
    bare: bool = False  # a plain number with no scale, exponent or unit: "70"
    group: int = -1  # which list of amounts it belongs to (-1: none)
    hedged: bool = False  # its list is joined by "or": alternatives, not an answer
    written: str = ""  # its scale and unit as written, casefolded: "gb" for "70 GB"


class NumericOutcome(BaseModel):
    check_id: str
    passed: bool
    expected: str  # "≈ 140 GB (±10%)"
    matched: str | None  # the verbatim span that passed, if any
    found: list[str]  # verbatim spans of every candidate of the check's kind
    detail: str  # one sentence of feedback


@functools.cache
def ureg() -> pint.UnitRegistry[float]:
    """The registry: pint's defaults, with information as a dimension, plus counted units.

    pint (0.24/0.25) defines `bit = []`, which makes bytes dimensionless: 5 would then
    convert to 5 GB and a parameter count would pass a memory check. The default
    definitions are loaded with `bit = [information]` instead.
    """
    folder = pathlib.Path(pint.__file__).parent
    registry: pint.UnitRegistry[float] = pint.UnitRegistry(None, cache_folder=None)
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
    """Every amount stated in `text`, in order; labels, years and rates are left out.
    Amounts in one list share its closing unit and carry the list's number."""
    if not isinstance(text, str):
        return []
    found = []
    for match in _QUANTITY.finditer(text):
        item = _found(match)
        if item is not None and not _is_label(text, match, item):
            found.append(item)
    return _with_lists(text, found)


# Between two members of a list: separators only, in any layout ("70, 140 or 280", "70 GB 140 GB",
# one per line or bullet, "70 GB | 140 GB", "140 GB (or 280 GB)", "70 GB. Maybe 140 GB.").
# Arithmetic ("=", "×", "-", "→") and words other than hedges join the steps of a derivation.
_LIST_JOINER = re.compile(
    r"(?:[\s,;/|()\[\]{}…]|\.\.\.|[.!?](?=\s)|\n[ \t]*(?:[-*•‣◦▪]|[0-9]{1,2}[.)]|[a-z][.)])(?=\s)"
    r"|(?i:\b(?:or|and|maybe|perhaps|possibly|probably|even|either|else|otherwise|vs|versus"
    r"|alternatively)\b))*")
_HEDGE_JOINER = re.compile(r"(?i:\b(?:or|maybe|perhaps|possibly|probably|either|else|otherwise|vs|versus"
                           r"|alternatively)\b)")
# After "45 GB / 320 KB" a result ("≈ 140,000") makes the slash a division, not a list.
_RESULT_AFTER = re.compile(r"\s*(?:=|≈|≃|~|→|->|\bis\b|\bgives\b)", re.IGNORECASE)
_MAX_JOINER = 24
_APPROX = "~≈≃∼"


def _with_lists(text: str, found: list[Found]) -> list[Found]:
    """Number the lists among `found`, give bare members the closing member's unit, and mark
    lists joined by "or" as hedged."""
    result: list[Found] = []
    for members in _runs(text, found):
        joiners = [text[a.end:b.start] for a, b in zip(members, members[1:], strict=False)]
        if len(members) == 1 or _divided(text, members, joiners):
            result.extend(members)
            continue
        hedged = any(_HEDGE_JOINER.search(j) for j in joiners)
        last = members[-1]
        for item in members:
            if item.kind == "number" and last.kind != "number":
                item = _in_unit_of(item, last)
            result.append(dataclasses.replace(item, group=members[0].start, hedged=hedged))
    return result


def _divided(text: str, members: list[Found], joiners: list[str]) -> bool:
    """"140 GB / 80 GB = 2 GPUs": two amounts joined by a slash and followed by a result."""
    return len(members) == 2 and joiners[0].strip() == "/" \
        and _RESULT_AFTER.match(text, members[-1].end) is not None


def _runs(text: str, found: list[Found]) -> list[list[Found]]:
    """`found` cut into maximal runs joined only by list separators."""
    runs: list[list[Found]] = []
    for item in found:
        if runs and _joined(text[runs[-1][-1].end:item.start], runs[-1][-1], item):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _joined(between: str, before: Found, after: Found) -> bool:
    """Whether `between` makes two amounts members of one list. Spaces alone join amounts
    written alike ("70 GB 140 GB", not "15 concurrent 8K requests") and not a result
    ("2.5 ≈ 15 requests"); a bracket joins only with a hedge ("140 GB (or 280 GB)"), since
    "2.7 GB (327,680 B per token)" glosses or derives."""
    if len(between) > _MAX_JOINER or not _LIST_JOINER.fullmatch(between):
        return False
    if not between.strip():
        a_result = after.text[:1] in _APPROX and before.text[:1] not in _APPROX
        return before.written == after.written and not a_result
    return not re.search(r"[()\[\]{}]", between) or _HEDGE_JOINER.search(between) is not None


def _in_unit_of(item: Found, last: Found) -> Found:
    """"70" in "70, 140 or 280 GB" is 70 GB: the closing unit (and scale word, unless the
    member has its own: "1.4e10, 2.6e10 and 1.4e11 bytes") applies to it."""
    value = item.quantity.magnitude * (last.scale if item.bare else 1.0)
    return dataclasses.replace(item, quantity=ureg().Quantity(value, last.quantity.units),
                               kind=last.kind, scale=last.scale, bare=False)


def outcome_of(check: NumericCheck, answer: str) -> NumericOutcome:
    """Whether `answer` states `check.expected` (within tolerance) in a unit of its kind."""
    return outcomes_of([check], answer)[0]


def outcomes_of(checks: list[NumericCheck], answer: str) -> list[NumericOutcome]:
    """Each check against the amounts in `answer` that answer it (module docstring: lists,
    alternatives and which amount answers which check)."""
    found = extract_quantities(answer)
    pools = [_candidates(c, found) for c in checks]
    offered = [_offered(c, pool, sum(_check_kind(o) == _check_kind(c) for o in checks), answer, found)
               for c, pool in zip(checks, pools, strict=True)]
    for kind in {k for k in map(_check_kind, checks) if k}:
        same = [i for i, c in enumerate(checks) if _check_kind(c) == kind]
        if len(same) > 1:
            assigned = _assign([checks[i] for i in same], [pools[i] for i in same], found, answer)
            for i, pool in zip(same, assigned, strict=True):
                pools[i] = pool
    return [_outcome(c, pool, alternatives)
            for c, pool, alternatives in zip(checks, pools, offered, strict=True)]


Candidate = tuple[Found, float]  # an amount and its value in the check's unit


def _check_kind(check: NumericCheck) -> str | None:
    target = _parse_unit(check.unit)
    return _kind_of(target) if target is not None else None


# An amount more than this factor away from the expected value measures something else:
# "2 bytes" per parameter is no attempt at a model's 140 GB, while "320 KB" for a 2.7 GB
# request is (the per-token size taken for the request's).
PLAUSIBLE_FACTOR = 1e4


def _candidates(check: NumericCheck, found: list[Found]) -> list[Candidate]:
    """The amounts of the check's kind, in its unit, within `PLAUSIBLE_FACTOR` of it."""
    target, kind = _parse_unit(check.unit), _check_kind(check)
    if target is None or kind is None:
        return []
    values = [(f, _value_in(f, target, kind)) for f in found]
    return [(f, v) for f, v in values if v is not None and _plausible(v, check.expected)]


def _plausible(value: float, expected: float) -> bool:
    if value == 0 or expected == 0:
        return value == expected
    ratio = abs(value / expected)
    return 1 / PLAUSIBLE_FACTOR <= ratio <= PLAUSIBLE_FACTOR


def _offered(check: NumericCheck, pool: list[Candidate], checks_of_kind: int, answer: str,
             found: list[Found]) -> set[int]:
    """Starts of the amounts offered as alternatives. The rule is about amounts, not layout or
    wording: distinct values of the check's kind said of the same thing (`_rivals`) are
    alternatives when there are more of them than the rubric asks for of this kind, and a
    hedged list ("70 or 140 GB") offers alternatives with any two. The steps of a derivation
    (`_derived`) commit to their values and are no one's rivals."""
    derived = _derived(answer, found, _cuts(answer))
    free = [c for c in pool if c[0].start not in derived]
    cuts = _cuts(answer)
    labels = [_label(f, answer, found, cuts) for f, _ in free]
    offered: set[int] = set()
    for members in _components(free, labels):
        if _distinct([v for _, v in members], check.tolerance) > checks_of_kind:
            offered |= {f.start for f, _ in members}
    for members, hedged in _lists_in(pool):
        if hedged and _distinct([v for _, v in members], check.tolerance) >= 2:
            offered |= {f.start for f, _ in members}
    return offered


Label = tuple[str, frozenset[str]]  # what an amount is said of, and its clause's words


def _components(free: list[Candidate], labels: list[Label]) -> list[list[Candidate]]:
    """`free` grouped so that rivals, and their rivals, share a group."""
    by_label: dict[Label, list[Candidate]] = {}
    for candidate, label in zip(free, labels, strict=True):
        by_label.setdefault(label, []).append(candidate)
    keys = list(by_label)
    group = list(range(len(keys)))
    pairs = [(a, b) for a in range(len(keys)) for b in range(a) if _rivals(keys[a], keys[b])]
    for i, j in pairs:
        old, new = group[i], group[j]
        group = [new if g == old else g for g in group]
    groups: dict[int, list[Candidate]] = {}
    for key, g in zip(keys, group, strict=True):
        groups.setdefault(g, []).extend(by_label[key])
    return list(groups.values())


def _rivals(a: Label, b: Label) -> bool:
    """Two amounts are answers to the same question when they are said of the same thing and
    their clauses' words say nothing to tell them apart: the same words ("It is 70 GB. It is
    140 GB."), or one clause's words all among the other's ("The model needs 70 GB. It needs
    140 GB."). An amount alone on its line rivals only others alone."""
    if a[0] != b[0]:
        return False
    small, large = sorted((a[1], b[1]), key=len)
    return small == large or (bool(small) and small <= large)


_CLAUSE = re.compile(r"[;\n|]|[.!?,](?=\s|$)")
_WORD = re.compile(r"[a-z][a-z0-9]+")
# Words that never tell two amounts apart: hedges, fillers and the verbs of any statement.
_FILLER = frozenset("""
    a an the it its is are was were be been being this that these those there here so then thus
    i me my we our you your he she they them his her their one ones other another some any all
    each at by of to in on for from with as into onto about around roughly approximately approx
    nearly almost just only also too and or nor but plus either neither else otherwise rather
    maybe perhaps possibly probably likely could would should might may can will shall must do
    does did if unless though although whether wrong right correct guess guessing answer answers
    final option options choice value values result say said think believe actually really
    take takes took use uses used come comes get gets got give gives gave make
    makes made like between range ranging somewhere anywhere something vs versus alternatively
    which what when where whatever first second third next last either way hmm well ok okay yes
    no not sure am im
""".split())


def _label(found: Found, answer: str, amounts: list[Found], cuts: list[int]) -> Label:
    """What `found` is said of (`_said_of`) and the telling words of its clause."""
    start, end = _clause_of(cuts, found.start)
    text = answer[start:end]
    for f in sorted((f for f in amounts if start <= f.start < end), key=lambda f: -f.start):
        text = text[:f.start - start] + " " + text[f.end - start:]
    words = frozenset(w for w in _WORD.findall(text.casefold()) if w not in _FILLER)
    last = max((f for f in amounts if f.group == found.group), key=lambda f: f.start) \
        if found.group >= 0 else found  # "1.3 / 2.7 / 5.4 GB per request": all per request
    return _said_of(last, answer), words


def _cuts(answer: str) -> list[int]:
    """Where clauses (cut by ",", ";", "|", a line or a sentence) start, and the answer ends."""
    return [0, *(m.end() for m in _CLAUSE.finditer(answer)), len(answer)]


def _clause_of(cuts: list[int], position: int) -> tuple[int, int]:
    """(start, end) of the clause holding `position`."""
    i = bisect.bisect_right(cuts, position)
    return cuts[i - 1], cuts[min(i, len(cuts) - 1)]


# What an amount is said of, when not of the asked quantity: "an 80 GB GPU", "80 GB of HBM per
# card", "320 KB per token", "2 bytes each", "per 8K request".
_SAID_OF = re.compile(
    r"\s*(?:of\s+(?:HBM\w*|VRAM|memory)\s+)?(?:HBM\w*\s+|VRAM\s+)?"
    r"(?P<device>GPUs?|cards?|[AH]100s?|H200s?|B200s?|devices?|accelerators?)\b"
    r"|\s*(?:of\s+\w+\s+)?(?:(?:per|/)\s*(?P<per>[A-Za-z]+)|each\b|for\s+(?:each|every|one)\b)",
    re.IGNORECASE)
_DENOMINATOR = re.compile(r"(?:\bper|/|\bconcurrent)\s*$", re.IGNORECASE)


def _said_of(found: Found, answer: str) -> str:
    """"gpu", "per token", "denominator" (the thing an amount is said of, when it is not the
    asked quantity itself), or "" for the asked quantity."""
    if _DENOMINATOR.search(answer[max(0, found.start - 24):found.start]):
        return "denominator"  # "per 8K request", "15 concurrent 8K requests"
    match = _SAID_OF.match(answer, found.end)
    if match is None:
        return ""
    if match["device"]:
        return "gpu"
    return "per " + (match["per"] or "").casefold().rstrip("s")


# A derivation's clause has an operator and a result sign: "70e9 x 2 bytes = 140 GB",
# "80 - 35 = 45 GB", "x 8192 tokens ≈ 2.7 GB", "~40 GB / 2.7 ≈ 15 requests", "4096 times 16
# which is 65536". A result sign alone ("70 GB = 140 GB = 280 GB", "70 GB → 140 GB"), an
# operator alone ("70 GB - 140 GB") or a list's separator ("fp16 → 70 / 140 / 280 GB") derives
# nothing.
_OPERATOR = re.compile(r"[×*·/+−]|(?<![A-Za-z])[xX](?=\s*[0-9(])|(?<=[0-9)\s])-(?=[\s0-9(])"
                       r"|\b(?:minus|plus|times|divided)\b", re.IGNORECASE)
# A product with a plain factor commits without a result: "B is 4096 × 16 (65,536)".
_FACTOR = re.compile(r"[0-9]\s*[×*·xX]\s*[0-9(]|[×*·xX]\s*[0-9][0-9,._]*(?![0-9,._]*\s*[A-Za-z])")
_RESULT = re.compile(r"=|≈|≃|∼|~|→|->|\b(?:which|that)\s+(?:is|makes|gives)\b|\bequals\b", re.IGNORECASE)


def _derived(answer: str, found: list[Found], cuts: list[int]) -> set[int]:
    """Starts of the amounts that stand in a clause deriving one amount from others."""
    derived: set[int] = set()
    for f in found:
        start, end = _clause_of(cuts, f.start)
        clause = answer[start:end]
        arithmetic = _OPERATOR.search(_without_bullet(clause)) and _RESULT.search(clause)
        if f.group < 0 and (arithmetic or _FACTOR.search(clause)):
            derived.add(f.start)
    return derived


def _without_bullet(clause: str) -> str:
    """The clause without a leading bullet ("* 140 GB", "- 70 GB") or its amounts' signs."""
    return re.sub(r"^\s*(?:[-*•‣◦▪+]|[0-9]{1,2}[.)])\s+", "", clause)


def _lists_in(pool: list[Candidate]) -> list[tuple[list[Candidate], bool]]:
    """The pool's amounts grouped by the list they stand in, with whether it is hedged."""
    groups: dict[int, list[Candidate]] = {}
    for f, value in pool:
        if f.group >= 0:
            groups.setdefault(f.group, []).append((f, value))
    return [(members, members[0][0].hedged) for members in groups.values()]


def _distinct(values: list[float], tolerance: float) -> int:
    """How many of `values` differ from each other by more than `tolerance` (relative)."""
    kept: list[float] = []
    for value in sorted(values):
        if not kept or not _within(value, kept[-1], tolerance):
            kept.append(value)
    return len(kept)


def _outcome(check: NumericCheck, pool: list[Candidate], offered: set[int]) -> NumericOutcome:
    expected = f"≈ {_amount(check.expected, check.unit)} (±{_percent(check.tolerance)})"
    if _check_kind(check) is None:
        return NumericOutcome(check_id=check.id, passed=False, expected=expected, matched=None,
                              found=[], detail=f"the rubric unit '{check.unit}' cannot be checked")
    best = min(pool, key=lambda c: abs(c[1] - check.expected), default=None)
    if best is None or not _within(best[1], check.expected, check.tolerance):
        return NumericOutcome(check_id=check.id, passed=False, expected=expected, matched=None,
                              found=[f.text for f, _ in pool], detail=_miss_detail(check, pool))
    problem = _problem_with(check, best, pool, offered)
    detail = problem or (f"found {_described(*best, check.unit)}, within {_percent(check.tolerance)} "
                         f"of {_amount(check.expected, check.unit)}")
    return NumericOutcome(check_id=check.id, passed=problem is None, expected=expected,
                          matched=best[0].text if problem is None else None,
                          found=[f.text for f, _ in pool], detail=detail)


def _problem_with(check: NumericCheck, best: Candidate, pool: list[Candidate],
                  offered: set[int]) -> str | None:
    """Why a value close enough to pass does not: offered among alternatives, or in a unit the
    question excludes on purpose (`accept`)."""
    found = best[0]
    if found.start in offered:
        listed = [f.text for f, _ in pool if f.start in offered]
        return (f"the answer offers several values for one amount ({', '.join(listed)}) "
                f"instead of committing to one; expected ≈ {_amount(check.expected, check.unit)}")
    accepted = [u for u in map(_parse_unit, check.accept) if u is not None]
    if accepted and found.quantity.units not in accepted:
        return (f"found {found.text}, but this question asks for the amount in "
                f"{' or '.join(check.accept)}")
    return None


# --- which amount answers which check, when a rubric asks for several of one kind -----------

_CLAUSE_END = re.compile(r"[;\n]|[.,!?](?=\s|$)")


def _assign(checks: list[NumericCheck], pools: list[list[Candidate]], found: list[Found],
            answer: str) -> list[list[Candidate]]:
    """Each check's own amounts: those next to its anchor ("7B: 14 GB"), never another
    check's; and of the amounts no anchor claims, a list of exactly one per check, in the
    rubric's order, else the closest values, each passing one check at most."""
    owners = _anchored(checks, found, answer)
    anchored = [[c for c in pool if owners.get(c[0].start) == i] for i, pool in enumerate(pools)]
    free = [[c for c in pool if c[0].start not in owners] for pool in pools]
    shared = _by_position(free) or _by_closeness(checks, free)
    return [own + [c for c in rest if c not in own] for own, rest in zip(anchored, shared, strict=True)]


def _anchored(checks: list[NumericCheck], found: list[Found], answer: str) -> dict[int, int]:
    """Amount start → the check whose anchor (an amount in its `quantity`, like "7B") stands
    next to it in its clause. Whether anchors come before their amounts ("7B: 14 GB") or after
    ("14 GB for 7B") is read from the answer: the side that pairs more of them."""
    anchors = [(i, a) for i, c in enumerate(checks) for a in extract_quantities(c.quantity)]
    kinds = {_check_kind(c) for c in checks}
    sequence = sorted([(f.start, f.end, i) for f in found for i, a in anchors
                       if f.kind == a.kind and _within(_base(f), _base(a), 0.05)]
                      + [(f.start, f.end, -1) for f in found if f.kind in kinds])
    pairs = [(x, y) for x, y in zip(sequence, sequence[1:], strict=False)
             if not _CLAUSE_END.search(answer, x[1], y[0])]
    before = [(y[0], x[2]) for x, y in pairs if x[2] >= 0 > y[2]]  # anchor, then its amount
    after = [(x[0], y[2]) for x, y in pairs if y[2] >= 0 > x[2]]  # amount, then its anchor
    chosen, other = (before, after) if len(before) >= len(after) else (after, before)
    return {**dict(other), **dict(chosen), **_respectively(sequence, answer)}


_SENTENCE_END = re.compile(r"[;\n]|[.!?](?=\s|$)")


def _respectively(sequence: list[tuple[int, int, int]], answer: str) -> dict[int, int]:
    """"70B, 13B and 7B need 14 GB, 26 GB and 140 GB (respectively)": a run of anchors followed,
    in the same sentence, by a run of as many amounts pairs them in order."""
    runs: list[list[tuple[int, int, int]]] = []
    for item in sequence:
        if runs and (runs[-1][-1][2] >= 0) == (item[2] >= 0):
            runs[-1].append(item)
        else:
            runs.append([item])
    owners: dict[int, int] = {}
    for anchors, amounts in zip(runs, runs[1:], strict=False):
        if anchors[0][2] >= 0 and len(anchors) == len(amounts) >= 2 \
                and len({a[2] for a in anchors}) == len(anchors) \
                and not _SENTENCE_END.search(answer, anchors[0][1], amounts[-1][0]):
            owners |= {amount[0]: anchor[2] for anchor, amount in zip(anchors, amounts, strict=True)}
    return owners


def _base(found: Found) -> float:
    return float(found.quantity.to_base_units().magnitude)


def _by_position(pools: list[list[Candidate]]) -> list[list[Candidate]] | None:
    """One list of exactly one amount per check ("7GB, 13GB, 70GB"): the i-th is for the i-th."""
    groups = {f.group for pool in pools for f, _ in pool}
    listed = pools[0] if pools else []
    if len(groups) != 1 or -1 in groups or len(listed) != len(pools):
        return None
    return [[listed[i]] for i in range(len(pools))]


def _by_closeness(checks: list[NumericCheck], pools: list[list[Candidate]]) -> list[list[Candidate]]:
    """Closest values first; an amount that passes one check is not a candidate for another."""
    pairs = sorted(((abs(v - c.expected) / abs(c.expected or 1), i, f.start)
                    for i, (c, pool) in enumerate(zip(checks, pools, strict=True)) for f, v in pool))
    taken: dict[int, int] = {}  # amount start → check
    for _, i, start in pairs:
        value = next(v for f, v in pools[i] if f.start == start)
        if start not in taken and i not in taken.values() and _within(value, checks[i].expected,
                                                                      checks[i].tolerance):
            taken[start] = i
    return [[(f, v) for f, v in pool if taken.get(f.start, i) == i] for i, pool in enumerate(pools)]


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
    factor = _SCALES.get(scale.lower(), 1.0)
    value *= factor
    if not math.isfinite(value):
        return None
    bare = kind == "number" and not scale and not exponent
    written = " ".join(f"{match['scale'] or ''} {match['unit'] or ''}".casefold().split())
    return Found(match[0], match.start(), ureg().Quantity(value, _parse_unit(unit)), kind,
                 scale=factor, end=match.end(), bare=bare, written=written)


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
                 if (known := _parse_unit(name)) is not None and known.dimensionality == unit.dimensionality),
                None)


def _value_in(found: Found, target: pint.Unit, kind: str) -> float | None:
    """`found` converted to `target`, or None if it is not a candidate for the check.

    Bare numbers of 1000 or more stand for parameter counts: learners often omit "params".
    """
    quantity = found.quantity
    if found.kind == "number" and kind == "params" and quantity.magnitude >= 1000:
        quantity = ureg().Quantity(quantity.magnitude, "param")
    elif found.kind != kind:
        return None
    return float(quantity.to(target).magnitude)


def _within(value: float, expected: float, tolerance: float) -> bool:
    return abs(value - expected) <= tolerance * abs(expected) * (1 + 1e-9)


def _miss_detail(check: NumericCheck, candidates: list[Candidate]) -> str:
    """One sentence naming what was expected and what the answer gave instead."""
    expected = _amount(check.expected, check.unit)
    if candidates:
        shown = [_described(f, value, check.unit) for f, value in candidates[:3]]
        more = f" and {len(candidates) - 3} more" if len(candidates) > 3 else ""
        return f"expected ≈ {expected}, found {', '.join(shown)}{more}"
    return f"expected ≈ {expected}; no {_KIND_NOUNS[_check_kind(check) or 'number']} found in the answer"


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
