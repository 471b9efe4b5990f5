"""`tutor exam --voice` on recordings espeak-ng makes on the spot, heard by the real recogniser
(Whisper base): each spoken turn is transcribed, accepted, and takes the typed path from there;
the follow-up's spoken reply is graded with the spoken answer as one attempt."""

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.html_page import Page
from tests.learner.test_exam import GQA, Ticking, judge_of
from tutor.core.console import Console
from tutor.core.course import bundled_course
from tutor.core.speech import espeak
from tutor.learner.exam import Exam
from tutor.learner.exam_report import build, html
from tutor.learner.history import History
from tutor.learner.session import Session
from tutor.learner.voice import from_microphone, resample

NO_AUDIO = f"{espeak.MISSING}: no audio can be made here (scripts/install.sh installs it as root)"
pytestmark = [pytest.mark.model, pytest.mark.speech,
              pytest.mark.skipif(not espeak.available(), reason=NO_AUDIO)]

ANSWER = "In G Q A, each group of query heads shares one key value head, so the KV cache gets smaller."
REPLY = "In M Q A, all of the query heads share one single key value head."


def samples(path: Path) -> np.ndarray:
    """A WAV file as the microphone gives it: float samples at 16 kHz."""
    with wave.open(str(path)) as recording:
        raw = np.frombuffer(recording.readframes(recording.getnframes()), dtype=np.int16)
        return resample(raw.astype(np.float32) / 32768, recording.getframerate())


class Recordings:
    """A microphone that plays back prepared recordings, one per turn."""

    def __init__(self, *paths: Path):
        self.takes = [samples(p) for p in paths]

    def record(self) -> np.ndarray:
        return self.takes.pop(0)


def test_a_spoken_exam_with_a_follow_up_is_transcribed_graded_and_reported(bank, tmp_path):
    recorder = Recordings(espeak.to_wav(ANSWER, tmp_path / "answer.wav"),
                          espeak.to_wav(REPLY, tmp_path / "reply.wav"))
    out = io.StringIO()
    console = Console(stdin=io.StringIO("\n\n"), stdout=out, width=160)  # Enter accepts each transcript
    answers = from_microphone(console, bundled_course().info.speech_terms, speak=False, recorder=recorder)
    judge = judge_of(mqa=0.01)  # the MQA point is missing from the answer: one follow-up asks for it
    session = Session(console, History(), lambda: judge, "exam", answers)
    record = Exam(session, [bank.get(GQA)], 5.0, clock=Ticking(0.5)).run()
    item = record.items[0]
    assert record.spoken and [t.kind for t in item.turns] == ["question", "answer", "follow_up", "reply"]
    heard, replied = item.turns[1].text, item.turns[3].text
    assert "GQA" in heard and "KV cache" in heard and "MQA" in replied  # the course's terms, written out
    assert item.turns[2].text == bank.get(GQA).follow_up_for("mqa-one-kv-head")
    assert out.getvalue().count("You said:") == 2
    [row] = session.history.attempts()
    assert row["answer"] == f"{heard}\n{replied}" and row["kind"] == "exam"
    page = Page(html(build(record, bank, [record])))
    assert "answered aloud" in page.text and "you said" in page.text
