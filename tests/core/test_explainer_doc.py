
import pytest

from tests.conftest import DATA
from tutor.core.errors import TutorError
from tutor.core.explainer_doc import Explainer
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


def test_the_learners_explainer_gives_the_section_title_an_unknown_section_keeps_the_rubrics():
    explainer = Explainer.from_file(SAMPLE)
    assert explainer.title(SectionRef(section="4.3", title="rubric title")) == "MQA vs GQA"
    assert explainer.title(SectionRef(section="9.9", title="Nowhere")) == "Nowhere"
    assert explainer.text(SectionRef(section="9.9", title="Nowhere")) is None


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(TutorError, match="cannot read explainer"):
        Explainer.from_file(tmp_path / "none.md")
