import os
from pathlib import Path

import pytest

from tutor.core.bank import load_bank

DATA = Path(__file__).parent / "data"
SEED_DECK = DATA / "week06_daily_recall.md"


@pytest.fixture(autouse=True)
def tutor_home(tmp_path, monkeypatch):
    """Every test gets its own user data dir; the model file stays shared."""
    monkeypatch.setenv("TUTOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="session")
def bank():
    return load_bank()


def pytest_collection_modifyitems(config, items):
    """`TUTOR_SKIP_MODEL=1` skips the real-model tests locally; CI never sets it."""
    if os.environ.get("TUTOR_SKIP_MODEL"):
        skip = pytest.mark.skip(reason="TUTOR_SKIP_MODEL is set")
        for item in items:
            if "model" in item.keywords:
                item.add_marker(skip)
