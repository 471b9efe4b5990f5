"""Broken rubric files each give one clear line: file, line and field."""

from pathlib import Path

import yaml

from tutor.core.bank import check_files, parse_rubric
from tutor.core.paths import rubrics_dir
from tutor.core.rubric import Rubric, SectionRef

GOOD = (rubrics_dir() / "w06-thu-4.yaml").read_text()


def write(tmp_path: Path, text: str, name: str = "w06-thu-4.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def only_problem(path: Path) -> str:
    rubric, problems = parse_rubric(path)
    assert rubric is None or problems
    assert len(problems) == 1, [str(p) for p in problems]
    return str(problems[0])


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_good_file_parses(tmp_path):
    rubric, problems = parse_rubric(write(tmp_path, GOOD))
    assert problems == [] and rubric.id == "w06-thu-4"


def test_bad_yaml_names_file_and_line(tmp_path):
    text = GOOD.replace("  - id: gqa-groups", "  - id: [gqa-groups")
    message = only_problem(write(tmp_path, text))
    assert message.startswith(f"{tmp_path / 'w06-thu-4.yaml'}:")
    assert "bad YAML" in message


def test_missing_field(tmp_path):
    text = "\n".join(ln for ln in GOOD.splitlines() if not ln.startswith("day:"))
    message = only_problem(write(tmp_path, text))
    assert message == f"{tmp_path / 'w06-thu-4.yaml'}:1: day: required field is missing"


def test_unknown_key_points_at_its_line(tmp_path):
    text = GOOD.replace("    weight: 0.5", "    wieght: 0.5")
    message = only_problem(write(tmp_path, text))
    line = line_of(text, "wieght")
    assert message == (f"{tmp_path / 'w06-thu-4.yaml'}:{line}: key_points[3].wieght: "
                       "unknown key 'wieght' (check the spelling)")


def test_weight_must_be_positive(tmp_path):
    text = GOOD.replace("    weight: 0.5", "    weight: 0")
    message = only_problem(write(tmp_path, text))
    assert f":{line_of(text, 'weight: 0')}: key_points[3].weight: " in message
    assert "greater than 0" in message


def test_at_least_larger_than_key_points(tmp_path):
    text = GOOD.replace("key_points:\n", "at_least: 9\nkey_points:\n")
    message = only_problem(write(tmp_path, text))
    assert "at_least is 9 but there are only 4 key_points" in message


def test_numeric_check_without_unit(tmp_path):
    text = GOOD + ("numeric:\n  - id: kv-size\n    quantity: KV cache per request\n"
                   "    expected: 2.7\n")
    message = only_problem(write(tmp_path, text))
    assert f":{line_of(text, '- id: kv-size')}: numeric[0].unit: required field is missing" in message


def test_numeric_check_with_unknown_unit(tmp_path):
    text = GOOD + ("numeric:\n  - id: kv-size\n    quantity: KV cache per request\n"
                   "    expected: 2.7\n    unit: GBB\n")
    message = only_problem(write(tmp_path, text))
    assert f":{line_of(text, 'unit: GBB')}: numeric[0].unit: " in message and "GBB" in message


def test_follow_up_must_name_a_key_point(tmp_path):
    text = GOOD.replace("  - key_point: gqa-groups", "  - key_point: gqa-group")
    assert "follow_ups names unknown key_point 'gqa-group'" in only_problem(write(tmp_path, text))


def test_id_must_match_file_name(tmp_path):
    message = only_problem(write(tmp_path, GOOD, name="other.yaml"))
    assert "id 'w06-thu-4' differs from file name" in message


def test_not_a_mapping(tmp_path):
    assert "must be a YAML mapping" in only_problem(write(tmp_path, "- a\n- b\n"))


def test_every_problem_in_a_folder_is_reported(tmp_path):
    write(tmp_path, GOOD.replace("    weight: 0.5", "    weight: -1"), "w06-thu-4.yaml")
    write(tmp_path, "id: [", "broken.yaml")
    _, problems = check_files([tmp_path])
    assert len(problems) == 2
    assert all("\n" not in str(p) for p in problems)


def test_section_label():
    assert SectionRef(section="4.3", title="MQA vs GQA").label == "§4.3 — MQA vs GQA"
    assert SectionRef(section="ELI5", title="The sculptor analogy").label.startswith("ELI5")


def test_version_changes_with_content():
    data = yaml.safe_load(GOOD)
    first = Rubric.model_validate(data)
    data["key_points"][0]["weight"] = 2
    assert Rubric.model_validate(data).version != first.version


def test_follow_ups_never_contain_their_key_point(bank):
    for rubric in bank.rubrics:
        claims = {p.id: p.claim.lower().rstrip(".") for p in rubric.key_points}
        for follow_up in rubric.follow_ups:
            assert claims[follow_up.key_point] not in follow_up.ask.lower(), rubric.id
