"""Learner text in the teacher's HTML pages (the review page, report.html): untrusted, so it is
escaped (Jinja's autoescape), its controls shown as visible marks (`safe_text`: a right-to-left
override would show "BG 041" as "140 GB", a number the grader never read), and isolated
(`<bdi>`, or FSI…PDI in a `<title>`), so one name's direction never reorders the page around
it. A long name is cut, its whole text kept in the element's `title`."""

from jinja2 import Environment
from markupsafe import Markup

from tutor.core.console import plural, safe_line, safe_text, score_text

NAME_CHARS = 60  # a name longer than this is cut in lists and headings (whole in its `title`)
FSI, PDI = "\u2068", "\u2069"  # first-strong isolate … pop directional isolate: plain-text <bdi>


def learner(text: object) -> Markup:
    """Learner text, escaped, its controls visible, isolated in a `<bdi>`."""
    return Markup("<bdi>{}</bdi>").format(safe_text(str(text)))


def name(text: object) -> Markup:
    """A name (student, reviewer) isolated and cut to NAME_CHARS, the whole name in `title`."""
    shown = safe_line(str(text))
    if len(shown) <= NAME_CHARS:
        return Markup('<bdi class="name">{}</bdi>').format(shown)
    return Markup('<bdi class="name" title="{}">{}…</bdi>').format(shown, shown[:NAME_CHARS])


def plain_name(text: object) -> str:
    """A name for a `<title>` (text only, no tags): cut, controls visible, isolated by FSI…PDI."""
    shown = safe_line(str(text))
    return f"{FSI}{shown[:NAME_CHARS]}{'…' if len(shown) > NAME_CHARS else ''}{PDI}"


def change_value(value: object) -> str:
    """An override's old or new value: a score as `score_text` shows it, an outcome as it is,
    "–" for none (so a history reads "0.60 → 0.90", not "0.601 → 0.9")."""
    if value is None:
        return "–"
    return score_text(value) if isinstance(value, float | int) else str(value)


def register(env: Environment) -> Environment:
    """The filters `learner`, `name`, `plain_name`, `change_value`, `score` and `plural` in
    `env`'s templates."""
    env.filters.update(learner=learner, name=name, plain_name=plain_name, change_value=change_value,
                       score=score_text, plural=plural)
    return env
