"""Loading rubric files, and reporting every problem with file, line and field."""

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import yaml
from pydantic import ValidationError

from tutor.core import paths
from tutor.core.errors import TutorError, field_path, problem_text
from tutor.core.result import DEFAULT_CUTOFFS, Cutoffs
from tutor.core.rubric import Day, Rubric, fold_ref, normalize_text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a rubric file, printable as one line."""

    path: Path
    line: int | None
    field: str | None
    message: str
    warning: bool = False  # worth a look, but the rubric works

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {'warning: ' if self.warning else ''}{self.message}"


MERGE_TAG = "tag:yaml.org,2002:merge"


class UniqueKeyLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type hints
    """YAML's safe loader, except that a key given twice in one mapping is an error:
    plain YAML keeps the last, so a second `key_points:` block would silently replace the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, object]:
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                continue  # a merge (`<<: *base`) may override keys on purpose
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # the base loader reports it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        return cast("dict[Hashable, object]", super().construct_mapping(node, deep=deep))


def _load_yaml(text: str) -> tuple[yaml.Node | None, object]:
    """The document's node tree (for line numbers) and its data, from one parse."""
    loader = UniqueKeyLoader(text)
    try:
        root = loader.get_single_node()
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()


def _node_line(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest YAML node that `loc` (a pydantic error path) reaches."""
    node, line = root, (root.start_mark.line + 1 if root else None)
    for key in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == key), None)
            if child is None:  # unknown key: point at the key itself
                child = next((k for k, _ in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _field_name(loc: tuple[int | str, ...]) -> str | None:
    return field_path(loc) or None


def _validation_problems(path: Path, root: yaml.Node, error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        problems.append(Problem(path, _node_line(root, loc), _field_name(loc), problem_text(item)))
    return problems


def parse_rubric(path: Path) -> tuple[Rubric | None, list[Problem]]:
    """Read one rubric file: the rubric, or the list of everything wrong with it."""
    try:
        root, data = _load_yaml(path.read_text(encoding="utf-8"))
    except RecursionError:
        return None, [Problem(path, None, None, "nested too deeply to be a rubric")]
    except OSError as exc:
        return None, [Problem(path, None, None, f"cannot read file: {exc.strerror}")]
    except UnicodeDecodeError:
        return None, [Problem(path, None, None, "not UTF-8 text")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        return None, [Problem(path, line, None, f"bad YAML: {getattr(exc, 'problem', exc)}")]
    if not isinstance(data, dict):
        return None, [Problem(path, 1, None, "a rubric file must be a YAML mapping of fields")]
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as exc:
        return None, _validation_problems(path, root, exc)
    return rubric, _semantic_problems(path, root, rubric)


def _semantic_problems(path: Path, root: yaml.Node, rubric: Rubric) -> list[Problem]:
    """Checks pydantic cannot do alone: units pint must understand, id matching file name."""
    from tutor.core.numeric import unit_problem

    problems = []
    for i, check in enumerate(rubric.numeric):
        message = unit_problem(check)
        if message:
            loc = ("numeric", i, "unit")
            problems.append(Problem(path, _node_line(root, loc), _field_name(loc), message))
    if path.stem != rubric.id:
        line = _node_line(root, ("id",))
        problems.append(Problem(path, line, "id", f"id '{rubric.id}' differs from file name"))
    return problems + _probe_warnings(path, root, rubric)


MAX_PROBE_WORDS = 14
# what makes a 1.5B judge miss a point the answer does make: a second clause, an aside,
# or a qualifier an examiner would not require ("grows *linearly*", "*usually* fp16")
OVER_SPECIFIED = re.compile(r";|\([a-z]{3,}\b|\be\.g\.|\bsuch as\b|\bbecause\b|\bso that\b"
                            r"|\bwhich\b|\bwhile\b|\b(linearly|usually|roughly|typically|often|mostly)\b",
                            re.IGNORECASE)


def _probe_warnings(path: Path, root: yaml.Node, rubric: Rubric) -> list[Problem]:
    """Key points whose judged wording is long or compound: give them a minimal `probe`."""
    problems = []
    for i, point in enumerate(rubric.key_points):
        text = point.probe or point.claim
        words = len(re.findall(r"[A-Za-z0-9][\w'-]*", text))  # formula symbols are not words
        found = OVER_SPECIFIED.search(text)
        if words > MAX_PROBE_WORDS or found:
            why = f"'{found.group(0)}'" if found else f"{words} words"
            field = "probe" if point.probe else "claim"
            loc = ("key_points", i, field)
            problems.append(Problem(path, _node_line(root, loc), _field_name(loc),
                                    f"the judge is asked a compound or over-specified claim ({why}); "
                                    "give the point a minimal `probe:`", warning=True))
    return problems


def rubric_files(targets: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for target in targets:
        if target.is_dir():
            files.extend(sorted(target.rglob("*.yaml")) + sorted(target.rglob("*.yml")))
        else:
            files.append(target)
    return files


def check_files(targets: Iterable[Path]) -> tuple[list[Rubric], list[Problem]]:
    """Validate every file; also flag ids used by two files."""
    rubrics: list[Rubric] = []
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for path in rubric_files(targets):
        rubric, found = parse_rubric(path)
        problems.extend(found)
        if rubric is None:
            continue
        if rubric.id in seen:
            problems.append(Problem(path, None, "id", f"id '{rubric.id}' also used by {seen[rubric.id]}"))
        seen[rubric.id] = path
        rubrics.append(rubric)
    return rubrics, problems


DAY_ORDER = list(Day)


def _deck_order(rubric: Rubric) -> tuple[int, int, str]:
    digits = "".join(ch for ch in rubric.id.rsplit("-", 1)[-1] if ch.isdigit())
    return DAY_ORDER.index(rubric.day), int(digits or 0), rubric.id


class Bank:
    """The rubrics of a course, in deck order (Monday → Weekend). The course's band cut-offs
    apply to every rubric that does not set its own."""

    def __init__(self, rubrics: Iterable[Rubric], cutoffs: Cutoffs | None = None):
        self.cutoffs = cutoffs or DEFAULT_CUTOFFS
        own = (r if r.bands or not cutoffs else r.model_copy(update={"bands": cutoffs}) for r in rubrics)
        self.rubrics = sorted(own, key=_deck_order)
        self._by_id = {r.id: r for r in self.rubrics}

    def __len__(self) -> int:
        return len(self.rubrics)

    def get(self, question_id: str) -> Rubric:
        found = self.find(question_id)
        if found is None:
            hint = ", ".join(self.rubrics_like(question_id)[:3]) or "run `tutor questions` to list ids"
            raise TutorError(f"unknown question id '{question_id}' (did you mean: {hint})")
        return found

    def find(self, question_id: str) -> Rubric | None:
        """The rubric with this id, its case and surrounding spaces forgiven (ids are lower case)."""
        return self._by_id.get(fold_ref(question_id))

    def rubrics_like(self, question_id: str) -> list[str]:
        stem = question_id.strip().lower().rsplit("-", 1)[0]
        return [r.id for r in self.rubrics if r.id.startswith(stem)]

    def select(self, day: str | None = None, section: str | None = None) -> list[Rubric]:
        chosen = self.rubrics
        if day:
            chosen = [r for r in chosen if r.day == Day(day.lower())]
        if section:
            wanted = section.strip().removeprefix("§").casefold()  # "eli5" is ELI5
            chosen = [r for r in chosen if any(_in_section(s.casefold(), wanted) for s in r.sections())]
        return chosen

    def match_text(self, text: str) -> list[Rubric]:
        """Rubrics whose deck question equals `text` up to quotes, dashes, case and spaces."""
        wanted = normalize_text(text)
        return [r for r in self.rubrics if normalize_text(r.question) == wanted]


def _in_section(section: str, wanted: str) -> bool:
    return section == wanted or section.startswith(wanted + ".")


def load_bank(root: Path | None = None, cutoffs: Cutoffs | None = None) -> Bank:
    """Load every rubric under `root` (default: the bundled course's); any problem is fatal
    (warnings are for `tutor rubrics check`)."""
    rubrics, problems = check_files([root or paths.rubrics_dir()])
    problems = [p for p in problems if not p.warning]
    if problems:
        more = f" (and {len(problems) - 1} more; run `tutor rubrics check`)" if len(problems) > 1 else ""
        raise TutorError(f"{problems[0]}{more}")
    if not rubrics:
        raise TutorError(f"no rubric files found under {root or paths.rubrics_dir()}")
    return Bank(rubrics, cutoffs)
