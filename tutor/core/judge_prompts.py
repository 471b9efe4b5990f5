"""The judge's prompts (`tutor/core/prompts/*.md`): read by the judges to build each probe,
and hashed by `decide`, since a trained head is valid only for the prompts it was fitted on."""

import hashlib
from functools import cache

from tutor.core import paths

JUDGE_PROMPTS = ("judge_system", "judge_answer", "judge_probe")
# What else the judge reads differently than the prompt files say: the answer in its judge
# form (`answer.judge_form`), and each misconception's correction probed beside it. Part of the
# hash, so a head fitted before is not applied to these signals.
JUDGE_INPUT = "answer: judge form (spoken form, separators as commas); misconceptions: with their corrections"


@cache
def prompt(name: str) -> str:
    return (paths.prompts_dir() / f"{name}.md").read_text(encoding="utf-8")


def prompts_hash() -> str:
    """The judge prompts' content hash: a head is only valid for the prompts it was fitted on."""
    digest = hashlib.sha256(JUDGE_INPUT.encode())
    for name in JUDGE_PROMPTS:
        digest.update(prompt(name).encode())
    return digest.hexdigest()[:16]
