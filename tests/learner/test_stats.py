import io

from rich.console import Console as RichConsole

from tutor.core.result import Band, Grade, Outcome, Verdict
from tutor.learner.history import History
from tutor.learner.stats import latest_scores, render_stats, reread_counts


def graded(question_id: str, score: float, misses: int = 0) -> Grade:
    verdicts = [Verdict(point_id=f"p{i}", kind="key_point", claim="c", outcome=Outcome.MISS,
                        confidence=0.1, pointer="") for i in range(misses)]
    return Grade(question_id=question_id, score=score, band=Band.of(score), verdicts=verdicts)


def test_latest_score_wins_and_misses_point_to_sections(bank):
    history = History()
    history.record(None, "drill", "a", graded("w06-thu-4", 0.2, misses=2))
    history.record(None, "drill", "b", graded("w06-thu-4", 0.9))
    history.record(None, "drill", "c", graded("w06-fri-1", 0.1, misses=1))
    assert latest_scores(history) == {"w06-thu-4": 0.9, "w06-fri-1": 0.1}
    counts = reread_counts(history, bank)
    assert counts["§4.3 — MQA vs GQA"] == 2 and len(counts) == 3


def test_stats_render_tables(bank):
    history = History()
    history.record(None, "drill", "a", graded("w06-thu-4", 1.0))
    out = io.StringIO()
    console = RichConsole(file=out, width=120)
    for block in render_stats(history, bank):
        console.print(block)
    text = out.getvalue()
    assert "Mastery by day" in text and "thursday" in text and "1/6" in text
    assert "answered: 1/33" in text
