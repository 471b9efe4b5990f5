"""The local judge on a GPU gives the CPU's verdicts (issue 30).

On a machine with a GPU and llama-cpp-python built for it (README "A GPU": `CMAKE_ARGS=
"-DGGML_CUDA=on" make install`), the same answers are graded with the model on the CPU and with
every layer offloaded (`gpu_layers=-1`, TUTOR_GPU_LAYERS). GPU kernels add in another order, so
bits differ; the bound is the one the tests already hold two backends of one model to (P(yes)
within 0.05, tests/core/judges/test_openai_api_model.py), the block-20 hidden state must point
the same way (cosine ≥ 0.99), and every verdict and band must be the same. Elsewhere the tests
are skipped with the reason."""

import base64

import numpy as np
import pytest

from tests.teacher.batch.classgen import POOL
from tutor.core import model_store
from tutor.core.grader import grade
from tutor.core.judges.local import LocalJudge
from tutor.core.judges.registry import ReliableJudge
from tutor.core.result import Grade

pytestmark = pytest.mark.model
llama_cpp = pytest.importorskip("llama_cpp")
if not llama_cpp.llama_supports_gpu_offload():
    pytest.skip("no GPU here: this llama-cpp-python build has no GPU backend (on a machine with one, "
                "build it with CMAKE_ARGS=\"-DGGML_CUDA=on\" make install)", allow_module_level=True)

ANSWERS = [(question, answer) for question, kinds in POOL.items() for answer in kinds.values()]


@pytest.fixture(scope="module")
def both(bank):
    """(CPU grades, GPU grades) of the same answers, one judge at a time in memory."""
    graded = []
    for layers in (0, -1):
        judge = ReliableJudge(LocalJudge.load(model_store.resolve(None), gpu_layers=layers))
        graded.append([grade(bank.get(question), answer, judge) for question, answer in ANSWERS])
        del judge
    return graded


def state_of(text: str | None) -> np.ndarray:
    assert text is not None
    return np.frombuffer(base64.b64decode(text), dtype=np.float16).astype(np.float64)


def judged(grade_: Grade) -> list:
    return [v for v in grade_.verdicts if v.p_yes is not None]


def test_p_yes_and_the_hidden_state_agree_within_the_cross_backend_bound(both):
    for cpu, gpu in zip(*both, strict=True):
        for a, b in zip(judged(cpu), judged(gpu), strict=True):
            assert abs(a.p_yes - b.p_yes) < 0.05, (a.claim, a.p_yes, b.p_yes)
            x, y = state_of(a.state), state_of(b.state)
            assert x @ y / (np.linalg.norm(x) * np.linalg.norm(y)) >= 0.99, a.claim


def test_verdicts_and_bands_are_the_cpus(both):
    for cpu, gpu in zip(*both, strict=True):
        assert [(v.claim, v.outcome) for v in cpu.verdicts] == [(v.claim, v.outcome) for v in gpu.verdicts]
        assert (cpu.band, cpu.head) == (gpu.band, gpu.head)
