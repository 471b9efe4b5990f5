"""Reading a daily-recall deck (the course's Markdown export) into questions.

The seed deck is a flattened web export: headings end in "¶", some bullets run
together on one line (" … (explainer §5.2) - For a …"), and code spans lost
their spaces ("4096 x 4096matrix"). The parser repairs exactly those artifacts.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from tutor.core.errors import TutorError
from tutor.core.rubric import Day

DAY_WORDS = {d.value: d for d in Day} | {"saturday": Day.WEEKEND, "sunday": Day.WEEKEND}
DAY_CODES = {Day.MONDAY: "mon", Day.TUESDAY: "tue", Day.WEDNESDAY: "wed",
             Day.THURSDAY: "thu", Day.FRIDAY: "fri", Day.WEEKEND: "wkd"}

POINTER_AT_END = re.compile(r"\s*\(explainer\s+([^)]*)\)\s*$", re.IGNORECASE)
POINTER_INLINE = re.compile(r"explainer\s+((?:§\s?[\d.]+|ELI5))", re.IGNORECASE)
SECTION = re.compile(r"§\s?(\d+(?:\.\d+)*)|\b(ELI5)\b")
RUN_TOGETHER = re.compile(r"(?<=\))\s+-\s+(?=\S)")
GLUED_WORD = re.compile(r"(\d)([a-z]{3,})")
WEEK = re.compile(r"\bweek\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class DeckQuestion:
    id: str
    day: Day
    text: str
    sections: tuple[str, ...]


def _day_of(line: str) -> Day | None:
    words = line.lstrip("#").strip().split()
    first = words[0].lower().strip(":") if words else ""
    return DAY_WORDS.get(first) if len(line) < 80 else None


def _bullets_by_day(lines: list[str]) -> list[tuple[Day, str]]:
    """Group the deck's lines into (day, bullet text), joining wrapped lines."""
    bullets: list[tuple[Day, str]] = []
    day = None
    for raw in lines:
        line = raw.replace("¶", "").strip()
        if not line:
            continue
        if not line.startswith("-") and (heading := _day_of(line)):
            day = heading
        elif day and line.startswith("- "):
            bullets.append((day, line[2:]))
        elif day and bullets and bullets[-1][0] == day:
            bullets[-1] = (day, f"{bullets[-1][1]} {line}")
    return bullets


def _split_question(text: str) -> tuple[str, tuple[str, ...]]:
    text = GLUED_WORD.sub(r"\1 \2", text).strip()
    pointer = POINTER_AT_END.search(text)
    if pointer:
        text, spec = text[: pointer.start()].strip(), pointer.group(1)
    else:
        inline = POINTER_INLINE.search(text)
        spec = inline.group(1) if inline else ""
    sections = tuple(m.group(1) or m.group(2) for m in SECTION.finditer(spec))
    return text, sections


def module_code(source: str) -> str:
    """'w06' from a deck titled '… Week 6 …'."""
    match = WEEK.search(source)
    return f"w{int(match.group(1)):02d}" if match else "m00"


def parse_deck(source: str, module: str | None = None) -> list[DeckQuestion]:
    module = module or module_code(source)
    questions: list[DeckQuestion] = []
    counters: dict[Day, int] = {}
    for day, bullet in _bullets_by_day(source.splitlines()):
        for part in RUN_TOGETHER.split(bullet):
            text, sections = _split_question(part)
            counters[day] = counters.get(day, 0) + 1
            qid = f"{module}-{DAY_CODES[day]}-{counters[day]}"
            questions.append(DeckQuestion(qid, day, text, sections))
    return questions


def read_deck(path: Path, module: str | None = None) -> list[DeckQuestion]:
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TutorError(f"{path}: cannot read deck ({exc})") from None
    questions = parse_deck(source, module)
    if not questions:
        raise TutorError(f"{path}: no questions found (expected day headings and '- ' bullets)")
    return questions
