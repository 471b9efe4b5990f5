"""`tutor explain`: the oral-examiner loop.

The learner explains a topic; every rubric pointing at it is graded; then the
examiner asks one follow-up at a time about the most important point still
missing, grades each reply, and stops at mastery or after `rounds`.
"""

import re
from dataclasses import dataclass, field

from rich.markup import escape

from tutor.core.bank import Bank
from tutor.core.console import Console, plural
from tutor.core.errors import TutorError
from tutor.core.feedback import reread_text
from tutor.core.result import Grade, Outcome
from tutor.core.rubric import KeyPoint, Rubric
from tutor.learner.session import Command, Reply, Session

SECTION = re.compile(r"^§?(\d+(?:\.\d+)*|ELI5)$", re.IGNORECASE)


def resolve_topic(bank: Bank, topic: str) -> tuple[str, list[Rubric]]:
    """A section (§4.3), a question id, or a word from section titles ("GQA")."""
    wanted = topic.strip()
    if not wanted:
        raise TutorError("no topic given (try §4.3, w06-thu-4 or a word like GQA)")
    by_id = bank.find(wanted)
    if by_id is not None:
        return by_id.id, [by_id]
    if match := SECTION.match(wanted):
        section = "ELI5" if match.group(1).upper() == "ELI5" else match.group(1)
        found = bank.select(section=section)
        label = section if section == "ELI5" else f"§{section}"
    else:
        label, found = wanted, _by_words(bank, wanted)
    if not found:
        raise TutorError(f"no section, question or title matches '{topic}' "
                         "(try §4.3, w06-thu-4 or a word like GQA)")
    return label, found


BROAD = 0.25  # a topic matching more than this share of the course's questions names no topic
FUNCTION_WORDS = frozenset("a an and are as at be by for from how in is it of on or the to vs what when "
                           "which why with".split())


def _by_words(bank: Bank, wanted: str) -> list[Rubric]:
    """The rubrics whose section titles, else whose questions, hold words starting with
    `wanted` ("GQA", "KV cache", "quant"; "a" inside "quantization" is no match). A topic with
    under two letters or digits ("§", ".", "e"), only function words ("the", "a"), or one found in more than
    a quarter of the questions is refused: it names no topic."""
    if sum(ch.isalnum() for ch in wanted) < 2 or set(wanted.casefold().split()) <= FUNCTION_WORDS:
        raise TutorError(f"topic '{wanted}' names no topic (try §4.3, w06-thu-4 or a word like GQA)")
    words = re.compile(rf"(?<!\w){re.escape(wanted)}", re.IGNORECASE)
    found = [r for r in bank.rubrics if any(words.search(ref.title) for ref in r.refs)]
    found = found or [r for r in bank.rubrics if words.search(r.question)]
    if len(found) > BROAD * len(bank.rubrics):
        every = plural(len(bank.rubrics), "question")
        raise TutorError(f"topic '{wanted}' matches {len(found)} of the {every}: too "
                         "broad (try §4.3, w06-thu-4 or a word like GQA)")
    return found


@dataclass(frozen=True)
class Point:
    """A key point of one rubric; equal and hashed by (rubric id, point id)."""

    rubric: Rubric = field(compare=False)
    key_point: KeyPoint = field(compare=False)
    key: tuple[str, str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.rubric.id, self.key_point.id))


def follow_up_for(point: Point) -> str:
    """The rubric's examiner question, or a generic one that gives nothing away."""
    asked = point.rubric.follow_up_for(point.key_point.id)
    return asked or (f"Your explanation leaves out part of {point.rubric.refs[0].label}. "
                     "What else belongs there, and why does it matter?")


@dataclass
class Examiner:
    """The policy over a `Session`: ask for an explanation, then follow up on what is missing.

    `/idk` on a follow-up is a failed recall of that point's question (as everywhere) and
    the examiner states the point; on the opening question it counts for every question of
    the topic and ends the conversation with what to re-read."""

    session: Session
    topic: str
    rubrics: list[Rubric]
    rounds: int = 3
    covered: set[Point] = field(default_factory=set)
    revealed: set[Point] = field(default_factory=set)
    stated_wrong: dict[str, str] = field(default_factory=dict)  # misconception → correction
    doubtful: list[Point] = field(default_factory=list)  # the grader is unsure: ask before guessing
    doubts_asked: set[Point] = field(default_factory=set)
    transcript: list[dict[str, str]] = field(default_factory=list)

    @property
    def points(self) -> list[Point]:
        return [Point(r, p) for r in self.rubrics for p in r.key_points]

    @property
    def console(self) -> Console:
        return self.session.console

    def run(self) -> None:
        with self.session:
            self._converse()
        self.summary()

    def _note(self, role: str, text: str) -> None:
        self.transcript.append({"role": role, "text": text})
        self.session.history.save_transcript(self.session.id, self.topic, self.transcript)

    def _say(self, text: str) -> None:
        self._note("examiner", text)
        self.console.print(f"[bold cyan]Examiner:[/bold cyan] {escape(text)}")
        self.session.speak(text)

    def _converse(self) -> None:
        self._say(f"Explain {self.topic} in your own words. What is it, and why does it matter?")
        self.session.put(*self.rubrics)
        reply = self._listen()
        if reply.command:
            for rubric in self.rubrics if reply.command is Command.IDK else []:
                self.session.dont_know(rubric, reply.text)
            return
        self._grade_reply(reply.text, self.rubrics)
        for _ in range(self.rounds):
            if not self._follow_up():
                return

    def _follow_up(self) -> bool:
        """One follow-up question and its reply; False when the conversation is over."""
        target = self._next_target()
        if target is None:
            self.console.print("[green]Mastery: every key point is covered.[/green]")
            return False
        self._say(follow_up_for(target))
        self.session.put(target.rubric)
        reply = self._listen()
        if reply.command is Command.IDK:
            self.session.dont_know(target.rubric, reply.text)
            self._reveal(target)
        elif reply.command is Command.SKIP:
            self.revealed.add(target)  # not asked again; it stays missing in the summary
        elif reply.command is None:
            self._grade_reply(reply.text, [target.rubric])
        return reply.command is not Command.QUIT

    def _listen(self) -> Reply:
        reply = self.session.read()
        if reply.command is not Command.QUIT:
            self._note("learner", reply.text)
        return reply

    def _grade_reply(self, text: str, rubrics: list[Rubric]) -> None:
        for rubric in rubrics:
            result = self.session.grade(rubric, text, status="Thinking…")
            self.session.record(rubric, text, result)
            self._absorb(rubric, result)
        self._progress()

    def _absorb(self, rubric: Rubric, result: Grade) -> None:
        if result.status != "graded":
            self.console.print(f"[red]Could not grade:[/red] {escape(result.reason or '')}")
            return
        hits = {v.point_id for v in result.verdicts if v.outcome == Outcome.HIT}
        self.covered |= {Point(rubric, p) for p in rubric.key_points if p.id in hits}
        if result.review:  # each unsure point is asked about once
            unsure = [Point(rubric, p) for p in rubric.key_points if p.id in result.uncertain]
            self.doubtful += [p for p in unsure if p not in self.doubts_asked]
            self.doubts_asked |= set(unsure)
        for verdict in result.by_kind("misconception"):
            if verdict.outcome == Outcome.WRONG:
                self.stated_wrong[verdict.claim] = verdict.detail or ""
                self.console.print(f"[red]✗ Not quite:[/red] {escape(verdict.claim)} → "
                                   f"{escape(verdict.detail or '')}")

    def _next_target(self) -> Point | None:
        """A point the grader was unsure of first (asking beats guessing), then the most
        important point still missing."""
        if self.doubtful:
            return self.doubtful.pop(0)
        missing = [p for p in self.points if p not in self.covered and p not in self.revealed]
        missing.sort(key=lambda p: (not p.key_point.essential, -p.key_point.weight))
        return missing[0] if missing else None

    def _reveal(self, point: Point) -> None:
        self.revealed.add(point)
        self._say(f"Here is that point: {point.key_point.claim} (explainer {point.rubric.refs[0].label})")

    def _progress(self) -> None:
        essential = [p for p in self.points if p.key_point.essential]
        done = [p for p in essential if p in self.covered]
        self.console.print(f"Covered {len(self.covered)} of {plural(len(self.points), 'key point')} "
                           f"({len(done)} of {len(essential)} essential).")
        for point in self.points:
            if point in self.covered:
                self.console.print(f"  [green]✓[/green] {escape(point.key_point.claim)}")

    def summary(self) -> None:
        missing = [p for p in self.points if p not in self.covered]
        self.console.print("\n[bold]Summary[/bold]")
        self.console.print(f"Covered: {len(self.covered)} of {plural(len(self.points), 'key point')}")
        for point in missing:
            self.console.print(f"  still missing: {escape(point.key_point.claim)}")
        for claim, correction in self.stated_wrong.items():
            self.console.print(f"  corrected: {escape(claim)} → {escape(correction)}")
        sections = {p.rubric.refs[0].label: p.rubric.refs[0] for p in missing}
        for label in sorted(sections):
            self.console.print(f"  {escape(reread_text(sections[label]))}")
