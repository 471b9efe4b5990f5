
import pytest

from tests.conftest import DATA
from tutor.core.errors import TutorError
from tutor.core.explainer_doc import Explainer, describe
from tutor.core.rubric import SectionRef

SAMPLE = DATA / "explainer_sample.md"


def test_sections_resolve_to_their_text():
    explainer = Explainer.from_file(SAMPLE)
    ref = SectionRef(section="4.3", title="MQA vs GQA")
    assert explainer.text(ref).startswith("MQA shares one key/value head")
    assert "Fewer KV heads" not in explainer.text(ref)


def test_parent_section_includes_children():
    explainer = Explainer.from_file(SAMPLE)
    text = explainer.text(SectionRef(section="4", title="x"))
    assert "### 4.3 MQA vs GQA" in text and "chapter five" not in text


def test_eli5_heading():
    explainer = Explainer.from_file(SAMPLE)
    assert "blueprint" in explainer.text(SectionRef(section="ELI5", title="The sculptor analogy"))


def test_without_explainer_the_pointer_shows_number_and_title():
    ref = SectionRef(section="4.3", title="MQA vs GQA")
    assert describe(ref, None) == "re-read explainer §4.3 — MQA vs GQA"
    assert "GQA shares one per group" in describe(ref, Explainer.from_file(SAMPLE))


def test_unknown_section_falls_back_to_the_label():
    ref = SectionRef(section="9.9", title="Nowhere")
    assert describe(ref, Explainer.from_file(SAMPLE)) == "re-read explainer §9.9 — Nowhere"


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(TutorError, match="cannot read explainer"):
        Explainer.from_file(tmp_path / "none.md")
