"""Where tutor keeps the user's data: one place, overridable for tests."""

import os
from pathlib import Path

import platformdirs

APP = "tutor"
HOME_ENV = "TUTOR_HOME"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return Path(value) if value else None


def _user_dir(kind: str, platform_dir) -> Path:
    """`$TUTOR_HOME/<kind>` when set, else the platform's own folder; created on first use."""
    home = _home()
    path = home / kind if home else Path(platform_dir(APP))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """History and learner data. `TUTOR_HOME` moves data and config under one folder."""
    return _user_dir("data", platformdirs.user_data_dir)


def config_dir() -> Path:
    return _user_dir("config", platformdirs.user_config_dir)


def rubrics_dir() -> Path:
    return PROJECT_ROOT / "rubrics"


def prompts_dir() -> Path:
    """The judge's prompt files; `TUTOR_PROMPTS` points at another set (for evals)."""
    value = os.environ.get("TUTOR_PROMPTS")
    return Path(value) if value else PROJECT_ROOT / "prompts"


def model_dir() -> Path:
    """Assembled model files. Kept apart from `TUTOR_HOME` so tests share one 1 GB file."""
    value = os.environ.get("TUTOR_MODEL_DIR")
    path = Path(value) if value else Path(platformdirs.user_cache_dir(APP)) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path
