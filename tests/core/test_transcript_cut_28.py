"""Issue 28 (11): a long recording is transcribed only as far as it is graded."""

import numpy as np
import pytest

from tutor.core.answer import MAX_WORDS, prepare
from tutor.core.speech.transcriber import RATE, FakeSegment, FakeTranscriber, Transcript, heard_until

pytestmark = pytest.mark.speech


def lazily(count: int, words: int, read: list[int]):
    """`count` segments of `words` words, 30 s each, noting each one handed over."""
    for n in range(count):
        read.append(n)
        yield FakeSegment(" ".join(f"w{n}x{k}" for k in range(words)), 30.0 * (n + 1))


def test_segments_past_the_graded_words_are_never_read():
    read: list[int] = []
    text, stopped = heard_until(lazily(22, 60, read), max_words=350)
    assert read == list(range(6))  # 6 × 60 = 360 > 350: the 7th segment is never transcribed
    assert stopped == 180.0 and len(text.split()) == 360
    assert prepare(text).text.split()[-1] == "w5x49"  # grading reads its first 350 words, all here


def test_the_cap_counts_words_as_grading_reads_them():
    """"one hundred and forty" is one word ("140") once written out: not cut early."""
    segments = [FakeSegment("one hundred and forty", 1.0 + n) for n in range(3)]
    text, stopped = heard_until(iter(segments), max_words=3)  # written: "140 140 140"
    assert stopped is None and text.count("one hundred and forty") == 3
    assert heard_until(iter(segments), max_words=2)[1] == 3.0


def test_without_a_cap_or_under_it_everything_is_read():
    read: list[int] = []
    assert heard_until(lazily(5, 60, read), max_words=None)[1] is None and len(read) == 5
    read.clear()
    assert heard_until(lazily(5, 60, read), max_words=MAX_WORDS)[1] is None and len(read) == 5


def test_the_fake_recogniser_stops_too_and_the_note_says_what_was_cut():
    long_answer = " ".join(f"word{n}" for n in range(1_000))
    recogniser = FakeTranscriber(lambda audio: long_answer, seconds=662.0, segment_words=50)
    heard = recogniser.transcribe(np.zeros(RATE, np.float32), max_words=350)
    assert recogniser.segments_read == 8 and len(heard.text.split()) == 400
    assert heard.cut_note("recording long.m4a", 350) == (
        "recording long.m4a: graded the first 350 words (4:25 of 11:02); the rest was not transcribed")
    assert Transcript("all of it", 30.0).cut_note("recording short.m4a", 350) is None
