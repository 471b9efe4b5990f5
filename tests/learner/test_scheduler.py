from datetime import UTC, datetime

from fsrs import Rating

from tutor.core.result import Band, Grade
from tutor.learner.history import History
from tutor.learner.scheduler import rating_for, review, todays_queue

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def graded(question_id: str, score: float) -> Grade:
    return Grade(question_id=question_id, score=score, band=Band.of(score))


def test_ratings_follow_bands():
    assert [rating_for(graded("q", s)) for s in (0.1, 0.5, 0.85, 1.0)] == [
        Rating.Again, Rating.Hard, Rating.Good, Rating.Easy]


def test_failed_card_is_due_sooner_than_a_strong_one():
    history = History()
    for _ in range(2):  # two reviews each, so both cards have left their first step
        failed = review(history, graded("w06-thu-4", 0.1), T0)
        strong = review(history, graded("w06-thu-6", 0.9), T0)
    assert failed.due < strong.due


def test_queue_puts_due_reviews_before_new_questions(bank):
    history = History()
    review(history, graded("w06-fri-1", 0.1), T0)
    review(history, graded("w06-mon-1", 1.0), T0)
    queue = todays_queue(bank, history, bank.rubrics, when=T0.replace(hour=10))
    ids = [r.id for r in queue]
    assert ids[0] == "w06-fri-1"  # failed → due again within the hour
    assert "w06-mon-1" not in ids  # strong → not due yet
    assert ids[1:4] == ["w06-mon-2", "w06-mon-3", "w06-mon-4"]  # then new ones in deck order
