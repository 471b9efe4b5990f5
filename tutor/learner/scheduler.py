"""Spaced repetition with FSRS (the `fsrs` package): a grade becomes a rating."""

from datetime import datetime

from fsrs import Card, Rating, Scheduler

from tutor.core.bank import Bank
from tutor.core.result import Band, Grade
from tutor.core.rubric import Rubric
from tutor.learner.history import History, now

_SCHEDULER = Scheduler(enable_fuzzing=False)  # fuzzing off: the same history gives the same plan


def rating_for(grade: Grade) -> Rating:
    """fail → Again, partial → Hard, full → Good (Easy from 0.95). The band is the grade's own,
    decided with its course's cut-offs."""
    score = grade.score or 0.0
    band = grade.band or Band.of(score)
    if band == Band.FAIL:
        return Rating.Again
    if band == Band.PARTIAL:
        return Rating.Hard
    return Rating.Easy if score >= 0.95 else Rating.Good


def review(history: History, grade: Grade, when: datetime | None = None) -> Card:
    """Update the question's card from an answer's grade; returns the new card."""
    stored = history.card(grade.question_id)
    card = Card.from_json(stored) if stored else Card()
    card, _ = _SCHEDULER.review_card(card, rating_for(grade), when or now())
    history.save_card(grade.question_id, card.to_json(), card.due)
    return card


def todays_queue(bank: Bank, history: History, candidates: list[Rubric],
                 when: datetime | None = None) -> list[Rubric]:
    """Due cards first (most overdue first), then new questions in deck order."""
    when = when or now()
    cards = {qid: Card.from_dict(data) for qid, data in history.cards().items()}
    due = sorted((r for r in candidates if r.id in cards and cards[r.id].due <= when),
                 key=lambda r: cards[r.id].due)
    new = [r for r in candidates if r.id not in cards]
    return due + new


def next_due(history: History) -> datetime | None:
    cards = [Card.from_dict(data) for data in history.cards().values()]
    return min((c.due for c in cards), default=None)
