"""`tutor course new`: a recall deck → a course folder of validated rubric skeletons an author
fills in, and its `course.toml`."""

import re
from pathlib import Path

import tomlkit
import yaml

from tutor.authoring.deck import DeckQuestion, read_deck
from tutor.core.console import plural
from tutor.core.course import COURSE_FILE, RUBRICS
from tutor.core.errors import TutorError
from tutor.core.explainer_doc import Explainer
from tutor.core.rubric import Rubric

MODULE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")  # a question id's prefix: w07-mon-1, at most 40 long
HEADER = ("# Skeleton imported from {deck}. Fill in key points, misconceptions, numeric checks,\n"
          "# the reference answer and follow-ups, then set `reviewed: true`.\n")


def _title(section: str, explainer: Explainer | None) -> str:
    found = explainer.sections.get(section) if explainer else None
    if found:
        return found[0]
    return "The sculptor analogy" if section == "ELI5" else f"TODO: title of section {section}"


def skeleton(question: DeckQuestion, explainer: Explainer | None = None) -> dict[str, object]:
    if not question.sections:
        raise TutorError(f"question '{question.text[:60]}' has no (explainer §X.Y) pointer")
    data: dict[str, object] = {
        "id": question.id,
        "day": question.day.value,
        "question": question.text,
        "refs": [{"section": s, "title": _title(s, explainer)} for s in question.sections],
        "key_points": [{"id": "todo-1", "claim": "TODO: one checkable claim", "weight": 1,
                        "essential": True}],
        "misconceptions": [],
        "numeric": [],
        "reference_answer": "TODO: a short reference answer",
        "follow_ups": [{"key_point": "todo-1", "ask": "TODO: what an examiner asks"}],
        "reviewed": False,
    }
    Rubric.model_validate(data)  # a skeleton is a valid, unreviewed rubric
    return data


def check_module(module: str | None) -> None:
    """A --module that every question id can start with (it names the rubric files too)."""
    if module is not None and not MODULE.fullmatch(module):
        shown = module if len(module) <= 40 else f"{module[:40]}…"
        raise TutorError(f"--module: '{shown}' cannot start a question id: use 1 to 40 lower-case "
                         "letters, digits and '-', starting with a letter or digit (e.g. w07)")


def new_course(folder: Path, deck: Path, module: str | None, title: str | None, force: bool,
               explainer: Explainer | None = None) -> list[Path]:
    """`course.toml` and one skeleton per deck question under `folder/rubrics/`; nothing is
    overwritten without `force`, and nothing is written unless every question makes a rubric.
    Returns the files written."""
    check_module(module)
    questions = read_deck(deck, module)
    skeletons(deck, questions, explainer)  # every question checked before anything is written
    info = folder / COURSE_FILE
    if info.exists() and not force:
        raise TutorError(f"{info} exists: {folder} is already a course (use --force to overwrite)")
    written = import_deck(deck, folder / RUBRICS, module, force, explainer, questions)
    document = tomlkit.document()
    document.add(tomlkit.comment(f"Made by `tutor course new` from {deck.name}."))
    document["title"] = title or deck_title(deck)
    document["module"] = questions[0].id.split("-")[0]
    info.write_text(tomlkit.dumps(document), encoding="utf-8")
    return [info, *written]


def deck_title(deck: Path) -> str:
    """The deck's first non-empty line, without Markdown heading marks or a pilcrow."""
    first = next((line for line in deck.read_text(encoding="utf-8").splitlines() if line.strip()), "")
    return first.lstrip("#").strip().rstrip("¶").strip() or deck.stem


def skeletons(deck: Path, questions: list[DeckQuestion], explainer: Explainer | None,
              ) -> list[dict[str, object]]:
    """One skeleton per question, or the first question that makes none (one line: the deck,
    the question, how many more, and that nothing was written)."""
    made, problems = [], []
    for question in questions:
        try:
            made.append(skeleton(question, explainer))
        except TutorError as exc:
            problems.append(exc.message)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise TutorError(f"{deck}: {problems[0]}{more}; nothing was written: fix the deck and run again")
    return made


def import_deck(deck: Path, folder: Path, module: str | None, force: bool, explainer: Explainer | None = None,
                questions: list[DeckQuestion] | None = None) -> list[Path]:
    """One rubric skeleton per deck question, in `folder`."""
    check_module(module)
    questions = questions or read_deck(deck, module)
    targets = [folder / f"{q.id}.yaml" for q in questions]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise TutorError(f"{existing[0]} exists ({plural(len(existing), 'file')} would be overwritten); "
                         "use --force or another folder")
    made = skeletons(deck, questions, explainer)
    folder.mkdir(parents=True, exist_ok=True)
    for data, target in zip(made, targets, strict=True):
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        target.write_text(HEADER.format(deck=deck.name) + text, encoding="utf-8")
    return targets
