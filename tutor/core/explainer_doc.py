"""Resolving "§4.3" to the learner's own copy of the explainer, when they have one."""

import re
from pathlib import Path

from tutor.core.errors import TutorError
from tutor.core.rubric import SectionRef

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*¶?\s*$")
NUMBER = re.compile(r"^§?\s*(\d+(?:\.\d+)*)\.?\s+(.*)$")


class Explainer:
    """Sections of an explainer Markdown file, keyed by number ("4.3") or "ELI5"."""

    def __init__(self, sections: dict[str, tuple[str, str]]):
        self.sections = sections  # number -> (title, body)

    @classmethod
    def from_file(cls, path: Path) -> "Explainer":
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TutorError(f"{path}: cannot read explainer ({exc})") from None
        return cls(parse_sections(text))

    def title(self, ref: SectionRef) -> str:
        return self.sections.get(ref.section, (ref.title, ""))[0]

    def text(self, ref: SectionRef) -> str | None:
        found = self.sections.get(ref.section)
        return found[1] if found else None


def _section_key(title: str) -> tuple[str, str] | None:
    numbered = NUMBER.match(title)
    if numbered:
        return numbered.group(1), numbered.group(2)
    if "eli5" in title.lower():
        return "ELI5", title
    return None


def parse_sections(text: str) -> dict[str, tuple[str, str]]:
    """Each numbered heading's body runs to the next heading at the same or a higher level."""
    headings = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = HEADING.match(line)
        if match and (key := _section_key(match.group(2))):
            headings.append((index, len(match.group(1)), *key))
    sections = {}
    for n, (start, level, number, title) in enumerate(headings):
        end = next((i for i, lv, *_ in headings[n + 1 :] if lv <= level), len(lines))
        sections[number] = (title, "\n".join(lines[start + 1 : end]).strip())
    return sections
