"""Where tutor keeps the user's data: one place, overridable for tests."""

import os
from collections.abc import Callable
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
