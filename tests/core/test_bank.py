from pathlib import Path

import pytest

from tests.conftest import SEED_DECK
from tutor.authoring.deck import read_deck
from tutor.core.bank import Bank, check_files, load_bank
from tutor.core.errors import TutorError
from tutor.core.paths import rubrics_dir
from tutor.core.rubric import normalize_text


def test_shipped_bank_has_no_problems():
    rubrics, problems = check_files([rubrics_dir()])
    assert [str(p) for p in problems] == []
    assert len(rubrics) == 33
    assert all(r.reviewed for r in rubrics)


def test_every_deck_question_maps_to_exactly_one_rubric(bank):
    deck = read_deck(SEED_DECK)
    assert len(deck) == 33
    for question in deck:
        matches = bank.match_text(question.text)
        assert [r.id for r in matches] == [question.id], question.text


def test_rubric_days_and_sections_follow_the_deck(bank):
    for question in read_deck(SEED_DECK):
        rubric = bank.get(question.id)
        assert rubric.day == question.day
        assert tuple(rubric.sections()) == question.sections


def test_same_section_has_one_title_everywhere(bank):
    titles: dict[str, set[str]] = {}
    for rubric in bank.rubrics:
        for ref in rubric.refs:
            titles.setdefault(ref.section, set()).add(ref.title)
    assert {s: t for s, t in titles.items() if len(t) > 1} == {}


def test_bank_is_in_deck_order(bank):
    assert [r.id for r in bank.rubrics] == [q.id for q in read_deck(SEED_DECK)]


def test_select_by_day_and_section(bank):
    thursday = bank.select(day="Thursday")
    assert [r.id for r in thursday] == [f"w06-thu-{n}" for n in range(1, 7)]
    assert {r.id for r in bank.select(section="§4.3")} == {"w06-thu-4"}
    section_4 = {r.id for r in bank.select(section="4")}
    assert "w06-thu-4" in section_4 and "w06-wkd-3" in section_4 and "w06-fri-1" not in section_4


def test_unknown_id_suggests_neighbours(bank):
    with pytest.raises(TutorError, match="unknown question id 'w06-thu-9'.*w06-thu-1"):
        bank.get("w06-thu-9")


def test_match_text_tolerates_quotes_dashes_case_and_spaces(bank):
    typed = 'why is "the model loads on my machine"   NOT yet a production answer?'
    assert [r.id for r in bank.match_text(typed)] == ["w06-mon-3"]
    assert normalize_text("MQA vs GQA – what") == normalize_text("mqa  vs gqa — WHAT")


def test_load_bank_fails_with_first_problem(tmp_path: Path):
    (tmp_path / "x.yaml").write_text("id: x\n")
    with pytest.raises(TutorError, match=r"x.yaml.*day: required field is missing"):
        load_bank(tmp_path)


def test_empty_bank_is_an_error(tmp_path: Path):
    with pytest.raises(TutorError, match="no rubric files"):
        load_bank(tmp_path)


def test_bank_length(bank: Bank):
    assert len(bank) == 33
