"""Red team of issue 27's fixes, CLI side, each with its neighbours: a config path that is a
folder, explain topics that name nothing, unknown or empty --section/--day filters, --head
checked like --explainer, and usage errors in one line."""

import json

import pytest

from tests.edge.test_cli import assert_one_line_error, tutor
from tutor.core.errors import ExitCode

FAKE = ("--backend", "fake")
ANSWER = "GQA shares one key value head per group of query heads"


# R9. The config file is read or named in one line

GRADE_STDIN = [*FAKE, "grade-answer", "--question", "w06-thu-4", "--answer-file", "-"]


@pytest.mark.parametrize("command", [["config", "show"], ["stats"], ["questions"], GRADE_STDIN])
def test_a_config_path_that_is_a_folder_is_one_line(tutor_home, command):
    folder = tutor_home / "config" / "config.toml"
    folder.mkdir(parents=True)
    assert_one_line_error(tutor(*command, stdin=ANSWER), ExitCode.BAD_INPUT, str(folder), "cannot read")
    assert folder.is_dir()  # left as it was


# R8. A topic must name something

@pytest.mark.parametrize("topic", ["a", "e", ".", "§", "the", "The a", "?!", "-"])
def test_explain_refuses_a_topic_that_names_nothing(topic):
    result = tutor(*FAKE, "explain", topic, "--rounds", "0")
    assert_one_line_error(result, ExitCode.BAD_INPUT, "names no topic")


def test_explain_refuses_a_topic_found_in_too_many_questions(monkeypatch):
    """No word of the Week 6 titles reaches a quarter of its questions ("memory": 7 of 33);
    a smaller share shows the rule."""
    monkeypatch.setattr("tutor.learner.examiner.BROAD", 0.1)
    assert_one_line_error(tutor(*FAKE, "explain", "memory", "--rounds", "0"), ExitCode.BAD_INPUT,
                          "memory", "7 of the 33 questions: too broad")


@pytest.mark.parametrize("topic", ["GQA", "KV cache", "quant", "LoRA", "§4.3", "w06-thu-4"])
def test_explain_still_finds_real_topics(topic):
    result = tutor(*FAKE, "explain", topic, "--rounds", "0", stdin=ANSWER + "\n.\n")
    assert result.returncode == 0, result.stderr


def test_a_title_word_is_matched_at_word_starts_only():
    """"qa" is inside "GQA" and "MQA" only: no word starts with it (before, it matched both)."""
    assert_one_line_error(tutor(*FAKE, "explain", "qa", "--rounds", "0"), ExitCode.BAD_INPUT,
                          "no section, question or title matches 'qa'")


# R15. Filters name something in the course

@pytest.mark.parametrize("args", [["questions", "--section", "99"], ["questions", "--section", ""],
                                  ["questions", "--section", "4.9"], ["drill", "--section", "99"],
                                  ["drill", "--section", " "], ["questions", "--day", ""],
                                  ["drill", "--day", ""], ["drill", "--day", "funday"]])
def test_an_unknown_or_empty_filter_is_one_line(tutor_home, args):
    option = args[1]
    assert_one_line_error(tutor(*FAKE, *args), ExitCode.BAD_INPUT, option)


@pytest.mark.parametrize(("args", "expected"), [(["--section", "§4.3"], "w06-thu-4"),
                                                (["--section", " 4 "], "w06-thu-1"),
                                                (["--section", "eli5"], "w06-mon-1"),
                                                (["--day", "Thursday"], "w06-thu-6")])
def test_known_filters_in_any_spelling_still_list(args, expected):
    result = tutor("questions", *args, env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


# R16. --head is checked before any work, whatever the backend

@pytest.mark.parametrize("backend", ["fake", "openai"])
@pytest.mark.parametrize("head", ["{d}/nope.npz", "{d}", "{d}/junk.npz", "{d}/text.txt"])
def test_a_missing_or_broken_head_is_one_line(tmp_path, backend, head):
    (tmp_path / "junk.npz").write_bytes(b"junk")
    (tmp_path / "text.txt").write_text("plain")
    args = ["--backend", backend, "--model", "m", "--head", head.format(d=tmp_path)]
    result = tutor(*args, "grade-answer", "--question", "w06-thu-4", "--answer-file", "-", stdin=ANSWER)
    assert_one_line_error(result, ExitCode.BAD_INPUT, "--head")


def test_a_broken_head_in_the_environment_names_the_variable(tmp_path):
    result = tutor("questions", env={"TUTOR_HEAD": str(tmp_path / "gone.npz")})
    assert_one_line_error(result, ExitCode.BAD_INPUT, "TUTOR_HEAD")


def test_the_plain_head_is_accepted():
    result = tutor(*FAKE, "--head", "plain", "grade-answer", "--question", "w06-thu-4", "--answer-file", "-",
                   stdin=ANSWER)
    assert result.returncode == 0, result.stderr


# R19. Usage errors are one line

@pytest.mark.parametrize(("args", "says"), [
    (["grade", "--bogus"], "--bogus"), (["bogus"], "bogus"), (["stats", "extra"], "extra"),
    (["grade", "x.csv", "--out"], "--out"), (["grade"], "submissions"),
    (["--bogus", "questions"], "--bogus"), (["model", "frob"], "frob"), (["drill", "--limit"], "--limit")])
def test_a_usage_error_is_one_line(args, says):
    assert_one_line_error(tutor(*args), ExitCode.BAD_INPUT, says)


def test_a_bare_command_group_still_shows_its_help():
    result = tutor("model")
    assert "Usage" in result.stdout + result.stderr and "tutor: error" not in result.stderr


# R20. URLs a server cannot have, and answer files without end, are refused at once

@pytest.mark.parametrize("url", ["http:/127.0.0.1:18086/v1", "http:127.0.0.1/v1", "https:/example.com/v1",
                                 "http://127.0.0.1:0/v1", "http://localhost:0"])
def test_a_url_no_server_can_have_is_refused_before_any_request(url):
    result = tutor("--backend", "openai", "--model", "m", "--base-url", url, "questions")
    assert_one_line_error(result, ExitCode.BAD_INPUT, "--base-url", url)


@pytest.mark.parametrize("url", ["HTTP://localhost:8000/v1", " http://127.0.0.1:1/v1"])
def test_unusual_but_reachable_urls_are_kept(url):
    result = tutor("--base-url", url, "config", "show", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("source", ["/dev/zero", "{d}/big.txt"])
def test_an_answer_file_without_end_or_over_its_bound_is_one_line(tmp_path, source):
    (tmp_path / "big.txt").write_text("GQA " * 40_000)
    path = source.format(d=tmp_path)
    result = tutor(*FAKE, "grade-answer", "--question", "w06-thu-4", "--answer-file", path)
    assert_one_line_error(result, ExitCode.BAD_INPUT, path, "over 128 KB")


def test_an_answer_file_just_under_the_bound_is_graded(tmp_path):
    long = tmp_path / "long.txt"
    long.write_text(("GQA shares heads. " * 7000)[:128 * 1024])
    result = tutor(*FAKE, "grade-answer", "--question", "w06-thu-4", "--answer-file", str(long))
    assert result.returncode == 0, result.stderr


# R22. A question id as pasted works in every command that takes one

@pytest.mark.parametrize("question", ["w06–thu–4", "\ufeffw06-thu-4", "w06-thu-\u200b4", "“W06-THU-4”"])
def test_a_pasted_question_id_is_found_by_grade_answer(question):
    result = tutor(*FAKE, "grade-answer", "--question", question, "--answer-file", "-", "--json",
                   stdin=ANSWER)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["question_id"] == "w06-thu-4"


# R11, R12. A saved run: non-finite numbers named by line and field; each answer once

@pytest.fixture
def saved_run(tmp_path):
    """A real saved run of three dev answers (fake judge)."""
    out = tmp_path / "run"
    result = tutor(*FAKE, "eval", "--split", "dev", "--limit", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out / "results.jsonl"


def _with_line(path, number: int, change) -> None:
    lines = path.read_text().splitlines()
    data = json.loads(lines[number - 1])
    change(data)
    lines[number - 1] = json.dumps(data)  # writes NaN and Infinity as JSON allows them
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(("value", "field"), [(float("nan"), "p_yes"), (float("inf"), "p_yes"),
                                              (float("-inf"), "confidence")])
def test_a_non_finite_number_in_a_verdict_names_its_line_and_field(saved_run, value, field):
    def spoil(data):
        data["grade"]["verdicts"][0][field] = value
    _with_line(saved_run, 2, spoil)
    result = tutor(*FAKE, "--head", "plain", "eval", "--from", str(saved_run))
    assert_one_line_error(result, ExitCode.BAD_INPUT, f"{saved_run}:2", f"grade.verdicts.0.{field}",
                          "not a finite number")
    assert "try --head plain" not in result.stderr


def test_a_non_finite_score_or_meta_is_named_too(saved_run):
    _with_line(saved_run, 1, lambda data: data["grade"].__setitem__("score", float("nan")))
    result = tutor(*FAKE, "--head", "plain", "eval", "--from", str(saved_run))
    assert_one_line_error(result, ExitCode.BAD_INPUT, f"{saved_run}:1", "grade.score")


@pytest.mark.parametrize("where", ["next", "later"])
def test_a_gold_answer_saved_twice_is_reported(saved_run, where):
    lines = saved_run.read_text().splitlines()
    copy = lines[:1] + ([lines[0]] if where == "next" else []) + lines[1:3] + \
        ([lines[0]] if where == "later" else []) + lines[3:]
    saved_run.write_text("\n".join(copy) + "\n")
    result = tutor(*FAKE, "--head", "plain", "eval", "--from", str(saved_run))
    again = 2 if where == "next" else 4
    assert_one_line_error(result, ExitCode.BAD_INPUT, f"{saved_run}:{again}", "again (first on line 1)")


# R1 and R21 in the review page: the reviewer's name is written into every override

def test_a_reviewer_name_that_is_not_text_is_one_line(tmp_path):
    result = tutor("review", str(tmp_path), "--reviewer", "ann\udcff", "--no-browser")
    assert_one_line_error(result, ExitCode.BAD_INPUT, "--reviewer", "not valid text")


@pytest.mark.parametrize(("given", "written"), [("\x1b[31mann", "␛[31mann"), ("  ann \t lee ", "ann lee"),
                                                ("bell\x07", "bell␇"), ("", "reviewer")])
def test_a_reviewer_name_carries_no_control_characters(given, written, monkeypatch):
    from tutor.edge import review_commands

    monkeypatch.setattr(review_commands, "_os_user", lambda: "")
    assert review_commands._reviewer_name(given or None) == written
