import json

from tutor.teacher.batch.inputs import Rejected, Submission, read_submissions, resolve_question


def test_questions_resolve_by_id_or_loose_deck_text(bank):
    assert resolve_question(bank, "w06-thu-4") == ("w06-thu-4", None)
    typed = '  why is "the model loads on my machine" not yet a production answer? '
    assert resolve_question(bank, typed) == ("w06-mon-3", None)
    assert resolve_question(bank, "MQA vs GQA -- what") == (None, "unknown question 'MQA vs GQA -- what'")


def test_csv_rows_and_per_row_problems(bank, tmp_path):
    path = tmp_path / "class.csv"
    path.write_text('student,question,answer\n'
                    'ann,w06-thu-4,"GQA shares, per group, one KV head"\n'
                    'bob,w06-xxx-1,whatever\n'
                    ',w06-thu-4,no student\n'
                    'cy,"QLoRA — what two ideas are combined?",4-bit base + LoRA\n')
    rows = read_submissions(bank, [path])
    assert rows[0] == Submission(f"{path}:2", "ann", "w06-thu-4", "GQA shares, per group, one KV head")
    assert isinstance(rows[1], Rejected) and "unknown question 'w06-xxx-1'" in rows[1].reason
    assert isinstance(rows[2], Rejected) and rows[2].reason == "missing student"
    assert rows[3].question_id == "w06-fri-4"


def test_csv_without_required_columns(bank, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("name,answer\nann,x\n")
    [row] = read_submissions(bank, [path])
    assert isinstance(row, Rejected) and "missing column(s): student, question" in row.reason


def test_jsonl_with_a_broken_line(bank, tmp_path):
    path = tmp_path / "class.jsonl"
    good = json.dumps({"student": "ann", "question": "w06-fri-3", "answer": "131,072 params"})
    path.write_text(good + "\n{not json\n")
    rows = read_submissions(bank, [path])
    assert rows[0].question_id == "w06-fri-3"
    assert isinstance(rows[1], Rejected) and rows[1].source == f"{path}:2"


def test_markdown_folder_one_student_per_file(bank, tmp_path):
    (tmp_path / "dana.md").write_text("## w06-thu-4\nGQA shares KV heads.\n\n"
                                      "## Prefill vs decode — why are they different serving phases?\n"
                                      "Prefill is parallel.\n\n## Nonsense heading\nx\n")
    rows = read_submissions(bank, [tmp_path])
    assert [(r.student, r.question_id, r.answer) for r in rows[:2]] == [
        ("dana", "w06-thu-4", "GQA shares KV heads."), ("dana", "w06-thu-6", "Prefill is parallel.")]
    assert isinstance(rows[2], Rejected) and rows[2].source == f"{tmp_path / 'dana.md'}:7"


def test_unreadable_and_unsupported_files(bank, tmp_path):
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\xff\xfe\x00")
    other = tmp_path / "x.txt"
    other.write_text("hi")
    rows = read_submissions(bank, [binary, other])
    assert [r.reason.split(" (")[0] for r in rows] == ["not valid UTF-8 text", "unsupported file type"]
    assert rows[0].source == f"{binary}:1"
