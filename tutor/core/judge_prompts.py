"""The judge's prompts (`tutor/core/prompts/*.md`): read by the judges to build each probe,
and hashed by `decide`, since a trained head is valid only for the prompts it was fitted on."""

import hashlib
from functools import cache

from tutor.core import paths

JUDGE_PROMPTS = ("judge_system", "judge_answer", "judge_probe")


@cache
def prompt(name: str) -> str:
    return (paths.prompts_dir() / f"{name}.md").read_text(encoding="utf-8")


def prompts_hash() -> str:
    """The judge prompts' content hash: a head is only valid for the prompts it was fitted on."""
    digest = hashlib.sha256()
    for name in JUDGE_PROMPTS:
        digest.update(prompt(name).encode())
    return digest.hexdigest()[:16]
