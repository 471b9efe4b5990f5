"""Recorded answers in a batch: each recording transcribed once, its transcript the answer.

Transcription stops at the words that are graded (`answer.MAX_WORDS`: see
`transcriber.heard_until`). Transcripts are cached by the recording's SHA-256, in memory and,
for `tutor grade`, under MARKS_DIR/transcripts/<sha256>.json, so a re-run (or a resumed run)
transcribes nothing again. The cache holds what the recogniser wrote; the written form
(`speech.written`: "seventy B" → "70B") is made on each read, so a better normaliser needs no
new transcription. A recording that cannot be read or holds no speech raises `RecordingError`
(checked before the speech model loads); the batch lists it ungraded with the reason.
"""

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tutor.core import speech
from tutor.core.answer import MAX_WORDS
from tutor.core.speech.transcriber import RecordingError, Transcriber, Transcript

TRANSCRIPTS = "transcripts"
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Recording:
    """A submission whose answer is a recording, not yet transcribed."""

    source: str
    student: str
    question_id: str
    audio: Path


@dataclass
class Transcripts:
    folder: Path | None = None  # the disk cache; None: memory only
    terms: Sequence[str] = ()  # the course's vocabulary: biases recognition, spells the transcript
    load: Callable[[], Transcriber] | None = None  # default: the installed Whisper model
    _memory: dict[str, Transcript] = field(default_factory=dict)
    _transcriber: Transcriber | None = None

    def written(self, audio: Path) -> tuple[str, Transcript]:
        """The answer (the transcript's written form) and the transcript; `RecordingError` for a
        recording that gives none."""
        heard = self.heard(audio)
        return speech.written(heard.text, self.terms), heard

    def heard(self, audio: Path) -> Transcript:
        digest = _sha256(audio)
        cached = self._memory.get(digest) or self._cached(digest)
        if cached is None:
            speech.check_recording(audio)  # before the speech model loads for it
            if self._transcriber is None:
                self._transcriber = (self.load or speech.local_transcriber)()
            cached = self._transcriber.transcribe(audio, self.terms, MAX_WORDS)
            self._store(digest, cached)
        self._memory[digest] = cached
        return cached

    def _path(self, digest: str) -> Path | None:
        return self.folder / f"{digest}.json" if self.folder else None

    def _cached(self, digest: str) -> Transcript | None:
        """A transcript made earlier with the same vocabulary (else None: transcribe again)."""
        path = self._path(digest)
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path and path.exists() else None
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("terms") != list(self.terms):
            return None
        text, seconds, cut_at = data.get("text"), data.get("seconds"), data.get("cut_at")
        if not isinstance(text, str) or not isinstance(seconds, int | float):
            return None
        stopped = float(cut_at) if isinstance(cut_at, int | float) else None
        return Transcript(text, float(seconds), cut_at=stopped)

    def _store(self, digest: str, heard: Transcript) -> None:
        path = self._path(digest)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        model = self._transcriber.name if self._transcriber else ""
        record = {"sha256": digest, "model": model, "terms": list(self.terms), "text": heard.text,
                  "seconds": round(heard.seconds, 3), "cut_at": heard.cut_at}
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such file") from None
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read the recording ({exc.strerror or exc})") from None
    return digest.hexdigest()
