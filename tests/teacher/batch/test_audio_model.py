"""`tutor grade` on recordings through the real recogniser (espeak-ng makes them on the spot);
the judge is a fake: what is tested is reading, transcribing, caching and reporting."""

import json
import wave

import pytest

from tutor.core.judges.fake import FakeJudge
from tutor.core.speech import espeak
from tutor.teacher.batch.command import grade_submissions

NO_AUDIO = f"{espeak.MISSING}: no audio can be made here (scripts/install.sh installs it as root)"
pytestmark = [pytest.mark.model, pytest.mark.speech,
              pytest.mark.skipif(not espeak.available(), reason=NO_AUDIO)]


def test_a_class_of_recordings_is_transcribed_graded_and_the_silent_one_reported(bank, tmp_path):
    folder, out = tmp_path / "submissions", tmp_path / "marks"
    (folder / "ann").mkdir(parents=True)
    espeak.to_wav("MQA shares one key value head across all query heads, so the KV cache shrinks.",
                  folder / "ann" / "w06-thu-4.wav")
    with wave.open(str(folder / "ann" / "w06-thu-5.wav"), "wb") as quiet:
        quiet.setnchannels(1)
        quiet.setsampwidth(2)
        quiet.setframerate(16_000)
        quiet.writeframes(b"\0\0" * 32_000)
    summary = grade_submissions(bank, lambda: FakeJudge(default=0.9), [folder], out)
    assert (summary.graded, summary.failed, summary.unreadable) == (1, 0, 1)
    row, silent = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert silent["status"] == "ungraded"
    assert silent["grade"]["reason"].startswith("recording w06-thu-5.wav: no speech heard")
    assert row["transcript"] is True and row["audio"].endswith("w06-thu-4.wav") and row["audio_seconds"] > 2
    assert "cache" in row["answer"].lower()
    assert "no speech heard" in (out / "problems.csv").read_text()
    assert len(list((out / "transcripts").glob("*.json"))) == 1
