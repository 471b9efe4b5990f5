"""README promises that can drift: the rubric example validates, the test command is CI's."""

import re
from pathlib import Path

import yaml

from tutor.core.rubric import Rubric

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_rubric_example_is_a_valid_rubric():
    section = README.split("## Writing a rubric", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    rubric = Rubric.model_validate(yaml.safe_load(example))
    assert rubric.id == "w06-fri-3" and rubric.numeric[0].unit == "param"


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.search(r"```sh\n(.*?)```", quick, re.S).group(1).strip().splitlines()
    assert len(commands) == 2
    test_command = commands[1].split("#")[0].strip()
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()
