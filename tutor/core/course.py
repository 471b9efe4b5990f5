"""A course is a folder: `rubrics/*.yaml`, an optional `explainer.md` and an optional `course.toml`.

    my-course/
      course.toml      title, module id, band cut-offs, the judge head fitted for this course
      rubrics/         one rubric per question (`tutor course new` makes skeletons from a deck)
      explainer.md     the module's explainer: pointers show its sections

The default is the Week 6 course bundled inside the package (`paths.bundled`).
"""

import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import tomlkit
from pydantic import BaseModel, ConfigDict, ValidationError

from tutor.core import paths
from tutor.core.bank import Bank, load_bank
from tutor.core.errors import TutorError, first_problem
from tutor.core.result import Cutoffs

COURSE_FILE = "course.toml"
RUBRICS = "rubrics"
EXPLAINER = "explainer.md"


class CourseInfo(BaseModel):
    """`course.toml`; every field is optional."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    title: str = ""
    module: str = ""  # the question-id prefix, e.g. "w07"
    bands: Cutoffs | None = None  # [bands] fail_below = 0.3, full_from = 0.8
    head: str | None = None  # a judge head from `tutor calibrate`, relative to the course folder
    speech_terms: list[str] = []  # domain terms spoken answers are biased toward and spelled as


@dataclass(frozen=True)
class Course:
    root: Path
    info: CourseInfo
    bundled: bool = False

    @property
    def title(self) -> str:
        return self.info.title or self.root.name

    @property
    def rubrics_dir(self) -> Path:
        return self.root / RUBRICS

    @property
    def explainer(self) -> Path | None:
        path = self.root / EXPLAINER
        return path if path.is_file() else None

    @property
    def head(self) -> str | None:
        """The course's own judge head file, if `tutor calibrate` made one."""
        return str(self.root / self.info.head) if self.info.head else None

    @property
    def key(self) -> str | None:
        """What keeps this course's learner history apart: None for the bundled course (whose
        history predates courses), else the module id or the folder's name."""
        if self.bundled:
            return None
        return re.sub(r"[^\w-]+", "_", self.info.module or self.root.resolve().name) or "course"

    @cached_property
    def bank(self) -> Bank:
        return load_bank(self.rubrics_dir, self.info.bands)


def bundled_course() -> Course:
    return _open(paths.bundled(*paths.BUNDLED_COURSE), bundled=True)


def open_course(root: Path | None) -> Course:
    """The course in folder `root` (None: the bundled one); a folder that is not a course is a
    one-line error naming it."""
    if root is None:
        return bundled_course()
    if not root.is_dir():
        raise TutorError(f"course {root}: no such folder")
    if not (root / RUBRICS).is_dir():
        raise TutorError(f"course {root}: no {RUBRICS}/ folder (make one with `tutor course new`)")
    return _open(root)


def _open(root: Path, bundled: bool = False) -> Course:
    return Course(root, read_info(root / COURSE_FILE), bundled)


def read_info(path: Path) -> CourseInfo:
    """`course.toml`, or the defaults; a problem is one line with file, line and field."""
    if not path.exists():
        return CourseInfo()
    try:
        text = path.read_text(encoding="utf-8")
        return CourseInfo.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TutorError(f"{path}: bad TOML ({exc})") from None
    except ValidationError as exc:
        loc = exc.errors()[0]["loc"]
        where = f"{path}:{_line_of(text, str(loc[-1]))}" if loc else str(path)
        raise TutorError(f"{where}: {first_problem(exc)}") from None


def _line_of(text: str, key: str) -> int:
    """The line where `key` is set (or its table begins); 1 when it is not written out."""
    pattern = re.compile(rf"^[ \t]*(\[[ \t]*{re.escape(key)}[ \t]*\]|{re.escape(key)}[ \t]*=)", re.MULTILINE)
    found = pattern.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def set_head(course: Course, filename: str, hint: str = "") -> Path:
    """Name `filename` (in the course folder) as the course's judge head in its course.toml,
    keeping the file's comments and other settings; the file is replaced whole (a failed write
    is one line, then `hint`). Returns the head's path."""
    path = course.root / COURSE_FILE
    document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    document["head"] = filename
    with paths.replacing(path, hint) as temporary:
        temporary.write_text(tomlkit.dumps(document), encoding="utf-8")
    return course.root / filename
