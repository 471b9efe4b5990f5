"""The trained judge head through the real default model. Runs in CI."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tutor.core import model_store
from tutor.core.decide import PlainHead, ProbeHead, head_for
from tutor.core.grader import grade
from tutor.core.judges.base import JudgeRequest
from tutor.core.judges.local import LocalJudge
from tutor.teacher.evaluation import load_gold

pytestmark = pytest.mark.model

NEAR_REFERENCE = (  # issue 12: essentially the reference answer, graded 0.29 fail by P(yes) alone
    "Quantization only shrinks the weights. The KV cache still grows with context length and with "
    "the number of concurrent requests, and it usually stays in fp16, so with long prompts and many "
    "users it can exceed the weights and the GPU runs out of memory.")
REQUEST = JudgeRequest("Why can a quantized model still OOM under long-context traffic?", NEAR_REFERENCE,
                       ("The KV cache grows with context length.", "bf16 has more mantissa bits than fp16."))


@pytest.fixture(scope="module")
def local():
    return LocalJudge.load(model_store.resolve(None))


def test_reading_the_hidden_state_leaves_p_yes_bit_identical(local):
    plain = LocalJudge.load(model_store.resolve(None), block=None)
    with_state, without = local.judge(REQUEST), plain.judge(REQUEST)
    assert [s.p_yes for s in with_state] == [s.p_yes for s in without]
    assert without[0].state is None and len(with_state[0].state) == local.runtime.llm.n_embd()
    assert not np.array_equal(with_state[0].state, with_state[1].state)  # differs per claim


def test_the_shipped_head_is_fitted_on_this_model_and_decides(bank, local):
    head = head_for(None, local.provenance)
    assert isinstance(head, ProbeHead) and head.name.startswith("probe-")
    result = grade(bank.get("w06-thu-3"), NEAR_REFERENCE, local)
    assert result.head == head.name
    assert all(v.state for v in result.verdicts if v.kind != "numeric")
    assert result.band_probability is not None and 0 <= result.band_probability <= 1


def test_the_near_reference_answer_is_no_longer_a_fail(bank, local):
    result = grade(bank.get("w06-thu-3"), NEAR_REFERENCE, local)
    shown = result.model_dump_json(indent=1, exclude={"verdicts": {"__all__": {"state"}}})
    assert result.band.value != "fail", shown


def test_plain_head_option_grades_with_p_yes_alone(bank, local):
    head = head_for("plain", local.provenance)
    assert isinstance(head, PlainHead)
    assert grade(bank.get("w06-thu-3"), NEAR_REFERENCE, local, head).head == "p_yes"


def _run(*args: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tutor", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_calibrate_refits_a_head_from_a_labelled_file_and_grading_uses_it(tmp_path):
    """A teacher's labelled answers → `tutor eval --labelled` → `tutor calibrate` → a head file
    that `--head` grades with."""
    rows = [g for g in load_gold("train") if g.question_id in {"w06-thu-4", "w06-thu-6"}][:12]
    labelled = tmp_path / "teacher.jsonl"
    labelled.write_text("".join(g.model_dump_json() + "\n" for g in rows))
    made = _run("eval", "--labelled", str(labelled), "--out", str(tmp_path / "run"))
    assert made.returncode == 0, made.stderr[-2000:]
    results = tmp_path / "run" / "results.jsonl"
    head = tmp_path / "head.npz"
    fitted = _run("calibrate", str(results), "--labelled", str(labelled), "--dev", str(results),
                  "--out", str(head))
    assert fitted.returncode == 0, fitted.stderr[-2000:]
    name = ProbeHead.load(head).name
    assert name in fitted.stdout
    answer = tmp_path / "answer.txt"
    answer.write_text(rows[0].answer)
    graded = _run("--head", str(head), "grade-answer", "--question", rows[0].question_id,
                  "--answer-file", str(answer), "--json")
    assert graded.returncode == 0, graded.stderr[-2000:]
    assert json.loads(graded.stdout)["head"] == name
