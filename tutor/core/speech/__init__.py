"""Speech: answers spoken instead of typed, transcribed locally and graded like typed ones.

`transcriber` (the protocol, faster-whisper behind it, a fake for tests) and `spoken` (a
transcript → the written form the numeric checks and the judge read)."""

from collections.abc import Sequence

from tutor.core import model_store
from tutor.core.speech.spoken import written
from tutor.core.speech.transcriber import (
    RecordingError,
    Transcriber,
    Transcript,
    check_recording,
    load_transcriber,
    require_voice_extra,
    voice_extra_missing,
)

__all__ = ["RecordingError", "Transcriber", "Transcript", "check_recording", "hints", "local_transcriber",
           "voice_extra_missing", "written"]


def local_transcriber() -> Transcriber:
    """The installed Whisper model, loaded; one-line errors for a missing extra or model."""
    require_voice_extra()
    return load_transcriber(model_store.resolve_speech())


def hints(terms: Sequence[str]) -> tuple[str, ...]:
    """The course's vocabulary, each term once, in order (what biases the recogniser)."""
    return tuple(dict.fromkeys(t.strip() for t in terms if t.strip()))
