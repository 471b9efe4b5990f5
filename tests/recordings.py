"""Small real recordings for the tests that fake the recogniser: recordings are checked (decoded)
before any model loads, so a test's recording must be audio. A tag makes the bytes differ (a
fake recogniser may choose what it hears by them); the same tag gives the same bytes."""

import hashlib
import io
import wave
from pathlib import Path

import numpy as np

RATE = 16_000


def wav_bytes(tag: str = "", seconds: float = 0.5) -> bytes:
    """A mono 16 kHz WAV: a tone whose pitch comes from `tag`."""
    pitch = 200 + hashlib.sha256(tag.encode()).digest()[0] * 4
    times = np.arange(int(seconds * RATE)) / RATE
    samples = (np.sin(2 * np.pi * pitch * times) * 8000).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sink:
        sink.setnchannels(1)
        sink.setsampwidth(2)
        sink.setframerate(RATE)
        sink.writeframes(samples.tobytes())
    return buffer.getvalue()


def write_wav(path: Path, tag: str = "", seconds: float = 0.5) -> Path:
    """`wav_bytes` in `path` (any suffix: the decoder reads the content, not the name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(tag, seconds))
    return path
