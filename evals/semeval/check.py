"""Consistency check of the committed SemEval-2013 Task 7 JSONL files, read as a user would.

Prints a Markdown table of answers per split and label (the one pasted into README.md) and
exits 1 if any line lacks a field, an id repeats, or a label does not collapse as the task
defines it (5-way -> 3-way -> 2-way).  Run:  python3 evals/semeval/check.py
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIELDS = ["id", "corpus", "split", "question_id", "question", "reference_answers", "answer",
          "label_5way", "label_3way", "label_2way"]
TO_3WAY = {"correct": "correct", "contradictory": "contradictory", "partially_correct_incomplete":
           "incorrect", "irrelevant": "incorrect", "non_domain": "incorrect"}
COLUMNS = ["2-way correct", "2-way incorrect", "3-way contradictory", "3-way incorrect",
           "5-way partially_correct_incomplete", "5-way irrelevant", "5-way non_domain"]


def problems(where: str, row: dict[str, object]) -> list[str]:
    """What is wrong with one line (empty when nothing)."""
    missing = [f for f in FIELDS if f not in row]
    if missing:
        return [f"{where}: missing {missing}"]
    l5, l3, l2 = row["label_5way"], row["label_3way"], row["label_2way"]
    out = []
    if l2 != ("correct" if l3 == "correct" else "incorrect"):
        out.append(f"{where}: 3-way {l3!r} vs 2-way {l2!r}")
    if l5 is not None and TO_3WAY.get(str(l5)) != l3:
        out.append(f"{where}: 5-way {l5!r} vs 3-way {l3!r}")
    if not row["answer"] or not row["reference_answers"]:
        out.append(f"{where}: empty answer or no reference answer")
    return out


def count(path: Path, seen: set[str], errors: list[str]) -> Counter[str]:
    """Label counts of one file; problems go to ERRORS."""
    counts: Counter[str] = Counter()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        row = json.loads(line)
        errors += problems(f"{path.name}:{number}", row)
        if row.get("id") in seen:
            errors.append(f"{path.name}:{number}: id {row.get('id')} repeats")
        seen.add(str(row.get("id")))
        counts.update(["total", f"2-way {row.get('label_2way')}", f"3-way {row.get('label_3way')}"])
        counts[f"5-way {row.get('label_5way')}"] += row.get("label_5way") is not None
    return counts


def table_row(name: str, counts: Counter[str]) -> str:
    """One Markdown row; 5-way cells are '-' where the split has no 5-way labels."""
    has5 = any(k.startswith("5-way") and v for k, v in counts.items())
    cells = [str(counts[c]) if has5 or not c.startswith("5-way") else "-" for c in COLUMNS]
    return f"| {name} | {counts['total']} | " + " | ".join(cells) + " |"


def main() -> int:
    seen: set[str] = set()
    errors: list[str] = []
    print("| file | answers | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for path in sorted(HERE.glob("*.jsonl")):
        print(table_row(path.stem, count(path, seen, errors)))
    print("(correct is the same count in all three schemes: 2-way correct)")
    for error in errors[:20]:
        print(f"error: {error}", file=sys.stderr)
    print(f"{len(seen)} answers, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
