"""Where tutor keeps the user's data: one place, overridable for tests."""

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import platformdirs

from tutor.core.errors import TutorError

APP = "tutor"
HOME_ENV = "TUTOR_HOME"
PROJECT_ROOT = Path(__file__).resolve().parents[2]  # a source checkout: the gold set for evals


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return Path(value) if value else None


def ensure_dir(path: Path, what: str) -> Path:
    """Create the folder `path` (and its parents) if needed; when a file is in the way or the
    folder cannot be made, a one-line error naming `what` (an option or variable) and the path."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in [path, *path.parents] if p.exists() and not p.is_dir()), path)
        raise TutorError(f"{what} {path}: not a folder ({blocker} is a file)") from None
    except OSError as exc:
        raise TutorError(f"{what} {path}: cannot create the folder ({exc.strerror})") from None
    return path


def read_only(path: Path) -> bool:
    """The file's or folder's write bits are all off: its owner asked that it stay as it is
    (honoured for root too, whom the system would let write)."""
    try:
        return not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    except OSError:
        return False


@contextmanager
def replacing(path: Path, hint: str = "") -> Iterator[Path]:
    """A file replaced whole or not at all. The caller writes the new content to the path
    yielded (a hidden file beside `path`); when it is done it is renamed over `path`, so a
    reader, or a process killed at any instant, sees the old file or the new one, never a part.
    A write that fails (a read-only file or folder, a folder in the file's place, a full disk)
    is one line naming `path` (then `hint`: what to do instead); the old file stays as it was."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        _check_writable(path)
        yield temporary
        if path.is_dir():  # os.replace would put a file into an empty folder's place
            raise IsADirectoryError(21, "a folder is in its place")
        os.replace(temporary, path)
    except OSError as exc:
        if temporary.is_file():
            temporary.unlink()
        why = exc.strerror or str(exc)
        if exc.filename and Path(exc.filename) not in (path, temporary):
            why += f": {exc.filename}"
        raise TutorError(f"{path}: cannot write it ({why}); it was left as it was"
                         + (f"; {hint}" if hint else "")) from None


def _check_writable(path: Path) -> None:
    if read_only(path):
        raise PermissionError(13, "the file is read-only")
    if read_only(path.parent):
        raise PermissionError(13, "its folder is read-only")
    if not path.parent.is_dir():
        raise NotADirectoryError(20, "its folder is missing or not a folder")


def _user_dir(kind: str, platform_dir: Callable[[str], str]) -> Path:
    """`$TUTOR_HOME/<kind>` when set, else the platform's own folder; created on first use."""
    home = _home()
    if home:
        return ensure_dir(home / kind, HOME_ENV)
    return ensure_dir(Path(platform_dir(APP)), f"the {kind} folder")


def data_dir() -> Path:
    """History and learner data. `TUTOR_HOME` moves data and config under one folder."""
    return _user_dir("data", platformdirs.user_data_dir)


def config_dir() -> Path:
    return _user_dir("config", platformdirs.user_config_dir)


def bundled(*parts: str) -> Path:
    """Data shipped inside the package (the Week 6 course, prompts), found through the import
    system, so an installed wheel finds it as a source checkout does. setuptools installs
    package data as plain files; a zipped install has no folder to read rubrics from."""
    target = resources.files("tutor").joinpath(*parts)
    if not isinstance(target, Path):
        raise TutorError(f"tutor's bundled data ({'/'.join(parts)}) is not on disk; install tutor "
                         "unzipped (pip installs wheels unzipped)")
    return target


BUNDLED_COURSE = ("courses", "week06")


def rubrics_dir() -> Path:
    """The bundled Week 6 course's rubrics."""
    return bundled(*BUNDLED_COURSE, "rubrics")


def prompts_dir() -> Path:
    """The judge's prompt files; `TUTOR_PROMPTS` points at another set (for evals)."""
    value = os.environ.get("TUTOR_PROMPTS")
    return Path(value) if value else bundled("core", "prompts")


def model_dir() -> Path:
    """Assembled model files. Kept apart from `TUTOR_HOME` so tests share one 1 GB file."""
    value = os.environ.get("TUTOR_MODEL_DIR")
    path = Path(value) if value else Path(platformdirs.user_cache_dir(APP)) / "models"
    return ensure_dir(path, "TUTOR_MODEL_DIR" if value else "the model folder")
