"""A built wheel, installed in a fresh virtual environment and run outside the source tree, finds
its bundled course, prompts and judge head through the import system (not the checkout).

The fresh environment gets the project's dependencies through a `.pth` line naming the project
venv's site-packages: a plain path line, so the editable install's import hook (itself started by
a `.pth` file there) is not run, and `tutor` can only come from the wheel."""

import json
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(root / "dist"), str(PROJECT)], check=True, capture_output=True)
    [wheel] = (root / "dist").glob("tutor-*.whl")
    venv.create(root / "venv", with_pip=False)
    python = root / "venv" / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    str(wheel)], check=True, capture_output=True)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "project-deps.pth").write_text(site.getsitepackages()[0] + "\n")
    return root


def run(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The wheel's `tutor` script, from a folder outside the source tree."""
    return subprocess.run([str(root / "venv" / "bin" / "tutor"), *args], cwd=root, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_the_package_comes_from_the_wheel_not_the_checkout(wheel_env):
    found = subprocess.run([str(wheel_env / "venv" / "bin" / "python"), "-c",
                            "import tutor.core.paths as p; print(p.rubrics_dir()); print(p.prompts_dir())"],
                           cwd=wheel_env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(f).is_relative_to(wheel_env / "venv") for f in found), found
    assert not any(Path(f).is_relative_to(PROJECT) for f in found)


def test_questions_lists_the_bundled_course(wheel_env):
    result = run(wheel_env, "questions", "--day", "thursday")
    assert result.returncode == 0, result.stderr
    assert "w06-thu-4" in result.stdout and "§4.3" in result.stdout


def test_a_course_folder_is_graded_from_the_wheel(wheel_env, tmp_path):
    from tests.conftest import SEED_DECK

    made = run(wheel_env, "course", "new", str(tmp_path / "c"), "--deck", str(SEED_DECK), "--module", "x1")
    assert made.returncode == 0, made.stderr
    result = run(wheel_env, "--backend", "fake", "grade-answer", "--course", str(tmp_path / "c"),
                 "--question", "x1-thu-4", "--answer-file", "-", "--json", "--allow-drafts",  # a skeleton
                 stdin="GQA shares KV heads.")
    assert result.returncode == 0, result.stderr
    grade = json.loads(result.stdout)
    assert (grade["question_id"], grade["status"], grade["model"]) == ("x1-thu-4", "graded", "fake")


@pytest.mark.model
def test_one_answer_graded_by_the_local_model_uses_the_shipped_prompts_and_head(wheel_env):
    """The head is only used with the prompts it was fitted on: its name in the grade shows the
    wheel's prompts and head file were both found."""
    from tutor.core.decide import shipped_head

    result = run(wheel_env, "grade-answer", "--question", "w06-thu-4", "--answer-file", "-", "--json",
                 stdin="MQA shares one K/V head across all query heads; GQA shares one per group.")
    assert result.returncode == 0, result.stderr
    grade = json.loads(result.stdout)
    head = shipped_head()
    assert head is not None and grade["head"] == head.name
    assert grade["status"] == "graded" and grade["model"] == "qwen2.5-coder-1.5b-instruct-q4_k_m"
