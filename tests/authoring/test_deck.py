
import pytest
import yaml

from tests.conftest import DATA, SEED_DECK
from tutor.authoring.deck import module_code, parse_deck, read_deck
from tutor.authoring.deck_import import import_deck
from tutor.core.bank import check_files
from tutor.core.errors import TutorError
from tutor.core.rubric import Day


def test_seed_deck_has_33_questions_by_day():
    questions = read_deck(SEED_DECK)
    per_day = {day: sum(q.day == day for q in questions) for day in Day}
    assert per_day == {Day.MONDAY: 5, Day.TUESDAY: 5, Day.WEDNESDAY: 6, Day.THURSDAY: 6,
                       Day.FRIDAY: 6, Day.WEEKEND: 5}


def test_run_together_bullets_are_split_and_repaired():
    friday = [q for q in read_deck(SEED_DECK) if q.day == Day.FRIDAY]
    assert friday[1].text == "Write the LoRA formula and define rank r."
    assert friday[2].text == ("For a 4096 x 4096 matrix, how many trainable params does "
                              "rank-16 LoRA add?")
    assert friday[3].text == "QLoRA — what two ideas are combined?"
    assert [q.sections for q in friday[1:4]] == [("5.2",), ("5.2",), ("5.4",)]


def test_pointers_ranges_lists_eli5_and_inline():
    by_id = {q.id: q for q in read_deck(SEED_DECK)}
    assert by_id["w06-mon-1"].sections == ("ELI5",)
    assert by_id["w06-mon-4"].sections == ("1.2", "1.3")
    assert by_id["w06-fri-6"].sections == ("5.6", "6.6")
    assert by_id["w06-wkd-1"].sections == ("6.1",)  # "…from explainer §6.1 with…"
    assert by_id["w06-wkd-1"].text.endswith("with at least 8 rows.")


def test_import_reproduces_the_shipped_bank(tmp_path, bank):
    written = import_deck(SEED_DECK, tmp_path, None, force=False)
    assert len(written) == 33
    rubrics, problems = check_files([tmp_path])
    assert problems == []
    imported = {r.id: (r.day, r.question, tuple(r.sections())) for r in rubrics}
    shipped = {r.id: (r.day, r.question, tuple(r.sections())) for r in bank.rubrics}
    assert imported == shipped
    assert not any(r.reviewed for r in rubrics)


def test_import_refuses_to_overwrite(tmp_path):
    import_deck(SEED_DECK, tmp_path, None, force=False)
    with pytest.raises(TutorError, match="exists.*--force"):
        import_deck(SEED_DECK, tmp_path, None, force=False)
    assert len(import_deck(SEED_DECK, tmp_path, None, force=True)) == 33


def test_import_takes_titles_from_the_explainer(tmp_path):
    from tutor.core.explainer_doc import Explainer

    explainer = Explainer.from_file(DATA / "explainer_sample.md")
    import_deck(SEED_DECK, tmp_path, None, force=False, explainer=explainer)
    data = yaml.safe_load((tmp_path / "w06-thu-4.yaml").read_text())
    assert data["refs"][0] == {"section": "4.3", "title": "MQA vs GQA"}


def test_next_module_deck(tmp_path):
    deck = tmp_path / "deck.md"
    deck.write_text("# Week 7 — Daily Recall\n## Monday\n- What is RAG? (explainer §1.1)\n"
                    "- Why chunk? (explainer §1.2)\n## Saturday\n- Draw the pipeline. "
                    "(explainer §2.1)\n")
    questions = read_deck(deck)
    assert [(q.id, q.day, q.sections) for q in questions] == [
        ("w07-mon-1", Day.MONDAY, ("1.1",)), ("w07-mon-2", Day.MONDAY, ("1.2",)),
        ("w07-wkd-1", Day.WEEKEND, ("2.1",))]


def test_deck_without_questions_is_an_error(tmp_path):
    deck = tmp_path / "empty.md"
    deck.write_text("just prose\n")
    with pytest.raises(TutorError, match="no questions found"):
        read_deck(deck)


def test_module_code():
    assert module_code("04. Week 6 — Daily Recall") == "w06"
    assert parse_deck("Monday\n- Q? (explainer §1.1)", module="x1")[0].id == "x1-mon-1"


def test_new_course_is_a_folder_the_course_loader_opens(tmp_path):
    from tutor.authoring.deck_import import new_course
    from tutor.core.course import open_course

    deck = tmp_path / "deck.md"
    deck.write_text("# Week 7 — Daily Recall\nMonday\n- What is RAG? (explainer §1.1)\n")
    written = new_course(tmp_path / "w7", deck, None, None, force=False)
    assert written[0] == tmp_path / "w7" / "course.toml"
    course = open_course(tmp_path / "w7")
    assert (course.title, course.info.module, course.key) == ("Week 7 — Daily Recall", "w07", "w07")
    assert [r.id for r in course.bank.rubrics] == ["w07-mon-1"]
    with pytest.raises(TutorError, match="already a course"):
        new_course(tmp_path / "w7", deck, None, None, force=False)


def test_import_counts_the_files_it_would_overwrite_in_the_singular_too(tmp_path):
    """Issue 28 (12): "1 file would be overwritten", not "1 files"."""
    made = import_deck(SEED_DECK, tmp_path, None, force=False)
    for path in made[1:]:
        path.unlink()
    with pytest.raises(TutorError, match=r"\(1 file would be overwritten\)"):
        import_deck(SEED_DECK, tmp_path, None, force=False)
    made[0].unlink()
    import_deck(SEED_DECK, tmp_path, None, force=False)
    with pytest.raises(TutorError, match=r"\(33 files would be overwritten\)"):
        import_deck(SEED_DECK, tmp_path, None, force=False)
