"""TUTOR_GPU_LAYERS: how many of the model's layers the local judge offloads to a GPU."""

import pytest

from tutor.core.errors import TutorError
from tutor.core.judges.llama_runtime import gpu_layers_asked


@pytest.mark.parametrize(("value", "layers"), [(None, 0), ("", 0), ("-1", -1), (" 28 ", 28)])
def test_the_layers_asked_for(monkeypatch, value, layers):
    if value is None:
        monkeypatch.delenv("TUTOR_GPU_LAYERS", raising=False)
    else:
        monkeypatch.setenv("TUTOR_GPU_LAYERS", value)
    assert gpu_layers_asked() == layers


def test_a_value_that_is_no_number_is_one_line(monkeypatch):
    monkeypatch.setenv("TUTOR_GPU_LAYERS", "all")
    with pytest.raises(TutorError, match=r"^TUTOR_GPU_LAYERS=all: a number of layers \(-1: all, 0: none\)$"):
        gpu_layers_asked()
