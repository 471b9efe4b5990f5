"""`tutor exam`: a mock oral exam, the policy over a `Session` that an examiner follows.

Questions come from across the module, weighted to what the history says is weak or due.
After each answer the examiner asks at most two follow-ups, in this order of priority: a
misconception the learner stated, an essential point missing, a point the grader is unsure
of. A follow-up's reply is graded with the first answer, as one attempt (as drill's clarifying
reply is), so the schedule is updated once per question, exactly as a drill does.

Each question has its share of the exam's minutes; the clock is shown with the question, a
soft warning comes when the share is nearly spent (an answer is never cut off), and no new
question starts once the exam's time is up. The exam's record (questions, transcript, grades,
time per answer) is saved after every turn, so Ctrl-C keeps everything answered so far.
"""

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from fsrs import Card
from pydantic import BaseModel, Field
from rich.markup import escape

from tutor.core.answer import best_quote, split_sentences
from tutor.core.explainer_doc import Explainer
from tutor.core.feedback import render
from tutor.core.result import Grade, Outcome, Verdict
from tutor.core.rubric import Rubric
from tutor.learner.history import History, now
from tutor.learner.session import HELP, Answers, Command, Reply, Session

MAX_FOLLOW_UPS = 2
WARN_AT = 0.8  # the soft warning comes when this share of an answer's time is spent
SAME_CHAPTER = 0.3  # a chapter already asked about weighs this much less for the next pick


# ---- which questions -------------------------------------------------------------------------

def question_weight(rubric: Rubric, cards: dict[str, Card], last_scores: dict[str, float],
                    when: datetime) -> float:
    """How much the history asks for this question: due or weak weighs most, new in between,
    well known and not yet due least."""
    card = cards.get(rubric.id)
    if card is None:
        return 1.5
    weight = 3.0 if card.due <= when else 0.5
    return weight + 2.0 * (1.0 - last_scores.get(rubric.id, 1.0))


def pick_questions(rubrics: list[Rubric], history: History, count: int, rng: random.Random,
                   when: datetime | None = None) -> list[Rubric]:
    """`count` questions drawn by weight, spread across the module's chapters."""
    when = when or now()
    cards = {qid: Card.from_dict(data) for qid, data in history.cards().items()}
    last = {r["question_id"]: r["score"] for r in history.attempts() if r["score"] is not None}
    weights = {r.id: question_weight(r, cards, last, when) for r in rubrics}
    left, chosen = list(rubrics), list[Rubric]()
    while left and len(chosen) < count:
        asked = {_chapter(r) for r in chosen}
        scaled = [weights[r.id] * (SAME_CHAPTER if _chapter(r) in asked else 1.0) for r in left]
        pick = rng.choices(left, weights=scaled)[0]
        chosen.append(pick)
        left.remove(pick)
    return chosen


def _chapter(rubric: Rubric) -> str:
    return rubric.refs[0].section.split(".")[0]


# ---- which follow-up -------------------------------------------------------------------------

@dataclass(frozen=True)
class FollowUp:
    """The examiner's next question on one answer, and why it is asked."""

    reason: Literal["misconception", "essential", "unsure"]
    point_id: str
    text: str


def choose_follow_up(rubric: Rubric, grade: Grade, answer: str, asked: set[str],
                     said: bool = False) -> FollowUp | None:
    """A stated misconception first, then a missing essential point, then a point the grader
    is unsure of; none when the answer holds up. A point is asked about once."""
    if grade.status != "graded":
        return None
    wrote = "said" if said else "wrote"
    for verdict in grade.by_kind("misconception"):
        if verdict.outcome == Outcome.WRONG and verdict.point_id not in asked:
            return FollowUp("misconception", verdict.point_id, _challenge(verdict, answer, wrote))
    for point_id, text in _missing_essentials(rubric, grade):
        if point_id not in asked:
            return FollowUp("essential", point_id, text)
    if grade.review:
        for point_id in grade.uncertain:
            if point_id not in asked:
                return FollowUp("unsure", point_id, _clarify(rubric, grade, point_id, answer, wrote))
    return None


def _challenge(verdict: Verdict, answer: str, wrote: str) -> str:
    """Quote the wrong claim back without giving the correction away."""
    quote = verdict.evidence or best_quote(verdict.claim, split_sentences(answer))
    said = f"You {wrote} {_quoted(quote)}" if quote else f"Your answer suggests: {verdict.claim}"
    return f"{said} Is that so? Think again, and say what actually happens."


def _quoted(quote: str) -> str:
    """“the learner's sentence.” with one full stop, theirs or ours."""
    return f"“{quote}”" if quote.rstrip()[-1:] in ".!?" else f"“{quote}”."


def _missing_essentials(rubric: Rubric, grade: Grade) -> list[tuple[str, str]]:
    """(point id, the question to ask) for each essential point or number not stated,
    heaviest first. On a list question (`at_least`) no single key point is essential."""
    outcome = {v.point_id: v.outcome for v in grade.verdicts}
    points = [] if rubric.at_least else sorted(
        (p for p in rubric.key_points if p.essential and outcome.get(p.id) == Outcome.MISS),
        key=lambda p: -p.weight)
    found = [(p.id, rubric.follow_up_for(p.id) or _generic(rubric)) for p in points]
    for check in rubric.numeric:
        if check.essential and outcome.get(check.id) in (Outcome.MISS, Outcome.WRONG):
            found.append((check.id, f"What is the {check.quantity}? Give the number with its unit."))
    return found


def _generic(rubric: Rubric) -> str:
    return (f"Your answer leaves out part of {rubric.refs[0].label}. "
            "What else belongs there, and why does it matter?")


def _clarify(rubric: Rubric, grade: Grade, point_id: str, answer: str, wrote: str) -> str:
    """The rubric's examiner question for the point, else the learner's own sentence back."""
    asked = rubric.follow_up_for(point_id)
    if asked:
        return asked
    verdict = next((v for v in grade.verdicts if v.point_id == point_id), None)
    quote = verdict and (verdict.evidence or best_quote(verdict.claim, split_sentences(answer)))
    if quote:
        return f"You {wrote} {_quoted(quote)} Say precisely what you mean there, in a sentence or two."
    return _generic(rubric)


# ---- the record ------------------------------------------------------------------------------

class Turn(BaseModel):
    role: Literal["examiner", "learner"]
    kind: Literal["question", "answer", "follow_up", "reply"]
    text: str
    reason: str | None = None  # a follow-up's: misconception, essential, unsure


class ExamItem(BaseModel):
    """One question of the exam as it went."""

    question_id: str
    question: str
    turns: list[Turn] = Field(default_factory=list)
    # unfinished: Ctrl-C or /quit came first; ungraded: the judge failed
    outcome: Literal["graded", "ungraded", "skipped", "idk", "unfinished"] = "unfinished"
    grade: Grade | None = None
    answer: str = ""  # the text graded: the first answer and the follow-up replies
    seconds: float = 0.0
    allowed_s: float = 0.0


class ExamRecord(BaseModel):
    """What the history keeps of an exam; the report is made from it."""

    session_id: int = 0
    started_at: str = ""
    minutes: float
    spoken: bool = False
    planned: list[str] = Field(default_factory=list)  # the question ids drawn
    items: list[ExamItem] = Field(default_factory=list)
    time_up: bool = False
    interrupted: bool = False
    finished: bool = False

    def store(self) -> str:
        """JSON without the judge's hidden states (raw model data, large)."""
        states = {"grade": {"verdicts": {"__all__": {"state", "contrast_state"}}}}
        return self.model_dump_json(exclude={"items": {"__all__": states}})


# ---- the clock -------------------------------------------------------------------------------

def clock_text(seconds: float) -> str:
    seconds = max(0, math.ceil(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Clocked:
    """An `Answers` source that watches the clock while the learner answers: a soft warning
    when the answer's time is nearly spent, and once more when it is over; never a cut-off."""

    def __init__(self, answers: Answers, console_print: Callable[[str], None], clock: Callable[[], float]):
        self.inner = answers
        self.say = console_print
        self.clock = clock
        self.started = 0.0
        self.allowed = 0.0
        self.warned: set[str] = set()

    def start(self, allowed: float) -> None:
        self.started, self.allowed, self.warned = self.clock(), allowed, set()

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def partial(self) -> list[str]:
        return self.inner.partial

    @property
    def spoken(self) -> bool:
        return bool(getattr(self.inner, "spoken", False))

    @property
    def help(self) -> str:
        return str(getattr(self.inner, "help", HELP))

    def speak(self, text: str) -> None:
        self.inner.speak(text)

    def read_answer(self, on_line: Callable[[str], None] | None = None) -> str | None:
        def heard(text: str) -> None:
            self.check()
            if on_line:
                on_line(text)
        text = self.inner.read_answer(on_line=heard)
        self.check()
        return text

    def check(self) -> None:
        """The soft warnings, each said once per answer."""
        left = self.allowed - self.elapsed
        if left <= 0 and "over" not in self.warned:
            self.warned |= {"over", "soon"}
            self.say("[yellow]⏱ Time is up for this answer: finish it with a line holding only '.'.[/yellow]")
        elif self.elapsed >= WARN_AT * self.allowed and "soon" not in self.warned:
            self.warned.add("soon")
            self.say(f"[yellow]⏱ About {clock_text(left)} left for this answer.[/yellow]")


# ---- the exam --------------------------------------------------------------------------------

@dataclass
class Exam:
    """The examiner: asks, follows up, keeps time and the record."""

    session: Session
    queue: list[Rubric]
    minutes: float
    explainer: Explainer | None = None
    clock: Callable[[], float] = time.monotonic
    follow_ups: int = MAX_FOLLOW_UPS  # at most this many per question
    record: ExamRecord = field(init=False)
    timer: Clocked = field(init=False)

    def __post_init__(self) -> None:
        self.record = ExamRecord(minutes=self.minutes, planned=[r.id for r in self.queue])
        self.timer = Clocked(self.session.answers, self.session.console.print, self.clock)
        self.session.answers = self.timer

    @property
    def per_answer(self) -> float:
        return self.minutes * 60 / max(1, len(self.queue))

    def run(self) -> ExamRecord:
        """The whole exam; Ctrl-C ends it early with everything answered kept."""
        began = self.clock()
        with self.session:
            self.record.session_id = self.session.id
            self.record.started_at = now().isoformat()
            self.record.spoken = self.session.spoken
            self._open()
            for number, rubric in enumerate(self.queue, 1):
                if self.clock() - began >= self.minutes * 60:
                    self.record.time_up = True
                    self.session.console.print("[yellow]⏱ Time is up: the exam ends here.[/yellow]")
                    break
                if not self._question(rubric, f"{number}/{len(self.queue)} · ", began):
                    break
            else:
                self.record.finished = True
        self.record.interrupted = self.session.interrupted
        self._save()
        return self.record

    def _open(self) -> None:
        console = self.session.console
        if self.session.help:
            console.print(self.session.help)
        console.print(f"[bold]Mock exam:[/bold] {len(self.queue)} questions in "
                      f"{clock_text(self.minutes * 60)} (about {clock_text(self.per_answer)} per answer, "
                      "follow-ups included).")

    def _save(self) -> None:
        self.session.history.save_exam(self.session.id, self.record.store())

    def _say(self, item: ExamItem, kind: Literal["question", "follow_up"], text: str,
             reason: str | None = None, shown: str = "") -> None:
        item.turns.append(Turn(role="examiner", kind=kind, text=text, reason=reason))
        self._save()
        self.session.console.print(shown or f"[bold cyan]Examiner:[/bold cyan] {escape(text)}")
        self.session.speak(text)

    def _hear(self, item: ExamItem, kind: Literal["answer", "reply"]) -> Reply:
        reply = self.session.read()
        if reply.command is None:
            item.turns.append(Turn(role="learner", kind=kind, text=reply.text))
        elif reply.command is not Command.QUIT:
            item.turns.append(Turn(role="learner", kind=kind, text=reply.command.value))
        self._save()
        return reply

    def _question(self, rubric: Rubric, position: str, began: float) -> bool:
        """One question with its follow-ups; False when the exam ends here (/quit)."""
        left = self.minutes * 60 - (self.clock() - began)
        allowed = min(self.per_answer, left)
        item = ExamItem(question_id=rubric.id, question=rubric.prompt, allowed_s=allowed)
        self.record.items.append(item)
        shown = (f"\n[bold]{position}{rubric.id}[/bold] ({rubric.day.value}) {escape(rubric.prompt)}\n"
                 f"[dim]⏱ {clock_text(allowed)} for this answer[/dim]")
        self.session.put(rubric)
        self.timer.start(allowed)
        self._say(item, "question", rubric.prompt, shown=shown)
        go_on = self._answer(rubric, item)
        item.seconds = round(self.timer.elapsed, 1)
        self.session.console.print(f"[dim]⏱ {clock_text(item.seconds)} on this question[/dim]")
        self._save()
        return go_on

    def _answer(self, rubric: Rubric, item: ExamItem) -> bool:
        reply = self._hear(item, "answer")
        if reply.command is Command.QUIT:
            return False
        if reply.command is Command.SKIP:
            item.outcome = "skipped"
        elif reply.command is Command.IDK:
            item.outcome, item.grade = "idk", self.session.dont_know(rubric, reply.text)
            self.session.console.print(f"[bold]Reference answer:[/bold] {escape(rubric.reference_answer)}")
        else:
            return self._examine(rubric, item, reply.text)
        return True

    def _examine(self, rubric: Rubric, item: ExamItem, text: str) -> bool:
        """Grade, follow up (each reply graded with what came before), record once."""
        grade = self.session.grade(rubric, text)
        asked: set[str] = set()
        go_on = True
        while len(asked) < min(self.follow_ups, MAX_FOLLOW_UPS):
            follow_up = choose_follow_up(rubric, grade, text, asked, self.session.spoken)
            if follow_up is None:
                break
            asked.add(follow_up.point_id)
            self._say(item, "follow_up", follow_up.text, follow_up.reason)
            reply = self._hear(item, "reply")
            if reply.command is not None or not reply.text.strip():
                go_on = reply.command is not Command.QUIT
                break
            text = f"{text}\n{reply.text}"
            grade = self.session.grade(rubric, text)
        self.session.record(rubric, text, grade, kind="exam")
        item.outcome = "graded" if grade.status == "graded" else "ungraded"
        item.grade, item.answer = grade, text
        self.session.console.print(render(rubric, grade, self.explainer, said=self.session.spoken))
        return go_on

