"""SemEval-2013 Task 7 (Beetle, SciEntsBank) graded by tutor as a course of its own.

Real students' answers to school-science and electricity questions, labelled by trained
annotators (evals/semeval/README.md: origins, licence, published results). Each question becomes
a rubric whose key points are its reference answers (Beetle's BEST, GOOD and MINIMAL ones, at
most three; SciEntsBank's one), any one of which makes the answer complete (`at_least: 1`). So
the judge is asked exactly its per-claim question: does the answer state the reference answer?

    .venv/bin/python evals/semeval.py build --corpus beetle --split test-ua --limit 150
    .venv/bin/tutor eval --course evals/out/semeval/beetle-test-ua/course \\
        --labelled evals/out/semeval/beetle-test-ua/labelled.jsonl --out evals/out/semeval/beetle-test-ua/run
    .venv/bin/python evals/semeval.py score evals/out/semeval/beetle-test-ua [--head plain]

`score` reports in the literature's terms: accuracy, macro-F1 and weighted F1, 2-way (correct /
incorrect: the answer graded `full` or not) and 3-way (correct / contradictory / incorrect). The
grader has no contradiction detector yet, so in 3-way it never says `contradictory`: an answer
not graded `full` counts as `incorrect`, which caps the 3-way macro-F1 (the judge issue's work).
"""

import argparse
import json
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.metrics import accuracy_score, f1_score

from tutor.core.course import open_course
from tutor.core.decide import load_head
from tutor.core.result import Band
from tutor.teacher.evaluation import EvalRun, load_labelled, load_run, rescore_run

DATA = Path(__file__).parent / "semeval"
OUT = Path(__file__).parent / "out" / "semeval"
REFERENCE_KINDS = ("BEST", "GOOD", "MINIMAL", None)  # KEYWORD references are bare terms, not claims
MAX_REFERENCES = 3
MARK = {"correct": 1.0, "partially_correct_incomplete": 0.5}  # everything else 0 (5-way, else 3-way)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def references(row: dict[str, Any]) -> list[str]:
    kept = [r for r in row["reference_answers"] if r["category"] in REFERENCE_KINDS]
    kept.sort(key=lambda r: REFERENCE_KINDS.index(r["category"]))
    return [r["text"] for r in kept[:MAX_REFERENCES]]


def rubric(question_id: str, row: dict[str, Any]) -> dict[str, Any]:
    points = [{"id": f"reference-{i + 1}", "claim": text, "weight": 1}
              for i, text in enumerate(references(row))]
    return {"id": question_id, "day": "monday", "question": row["question"],
            "refs": [{"section": "1", "title": row["corpus"]}], "key_points": points, "at_least": 1,
            "reference_answer": points[0]["claim"],
            "follow_ups": [{"key_point": "reference-1", "ask": "Can you say that more precisely?"}]}


def gold_line(question_id: str, row: dict[str, Any]) -> dict[str, Any]:
    label = row["label_5way"] or row["label_3way"]
    mark = MARK.get(label, 0.0)
    return {"id": row["id"], "question_id": question_id, "category": row["label_3way"],
            "source": f"semeval-{row['corpus']}-{row['split']}", "answer": row["answer"], "mark": mark,
            "band": Band.of(mark).value, "key_points": point_labels(row), "misconceptions": {},
            "note": f"2-way {row['label_2way']}; 3-way {row['label_3way']}; 5-way {row['label_5way']}"}


def point_labels(row: dict[str, Any]) -> dict[str, bool]:
    """Whether the answer states its reference, where the question has one reference (SciEntsBank):
    a 2-way correct answer states it, a partial, contradictory or irrelevant one does not. With
    several references (Beetle) any one makes an answer correct, so no single point is labelled."""
    return {"reference-1": row["label_2way"] == "correct"} if len(references(row)) == 1 else {}


def build(corpus: str, split: str, limit: int | None, seed: int, name: str | None = None,
          exclude: list[Path] | None = None) -> Path:
    """A course and a labelled file in `OUT/NAME` (default `corpus-split`); answers already in an
    `exclude` folder's labelled file are left out, so a second sample never repeats the first."""
    taken = {json.loads(line)["id"] for folder in exclude or []
             for line in (folder / "labelled.jsonl").read_text().splitlines() if line}
    rows = [json.loads(line) for line in (DATA / f"{corpus}-{split}.jsonl").read_text().splitlines()]
    rows = [r for r in rows if references(r) and r["id"] not in taken]
    if limit and limit < len(rows):
        rows = sorted(random.Random(seed).sample(rows, limit), key=lambda r: r["id"])
    folder = OUT / (name or f"{corpus}-{split}")
    rubrics = folder / "course" / "rubrics"
    rubrics.mkdir(parents=True, exist_ok=True)
    info = f'title = "SemEval-2013 {corpus} {split}"\nmodule = "se"\n'
    (folder / "course" / "course.toml").write_text(info)
    lines = []
    for row in rows:
        question_id = f"se-{slug(row['question_id'])}"
        data = rubric(question_id, row)
        (rubrics / f"{question_id}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        lines.append(json.dumps(gold_line(question_id, row), ensure_ascii=False))
    (folder / "labelled.jsonl").write_text("\n".join(lines) + "\n")
    print(f"{len(rows)} answers, {len({r['question_id'] for r in rows})} questions → {folder}")
    return folder


def literature_metrics(gold: list[str], predicted: list[str]) -> str:
    return (f"{accuracy_score(gold, predicted):.3f} | {f1_score(gold, predicted, average='macro'):.3f} | "
            f"{f1_score(gold, predicted, average='weighted'):.3f}")


def decided(folder: Path, head_option: str | None, run_name: str) -> tuple[EvalRun, list[str], list[str]]:
    """The re-decided run, each graded answer's 2-way word ("correct" when `full`) and its gold one."""
    bank = open_course(folder / "course").bank
    labelled = load_labelled(folder / "labelled.jsonl")
    run = rescore_run(bank, load_run(folder / run_name / "results.jsonl", labelled), load_head(head_option))
    said = ["correct" if r.band == Band.FULL else ("incorrect" if r.status == "graded" else "ungraded")
            for r in run.grades]
    two_way = [g.note.split(";")[0].removeprefix("2-way ") for g in run.gold]
    return run, said, two_way


def score(folder: Path, head_option: str | None, run_name: str = "run") -> str:
    run, said_all, two_way_all = decided(folder, head_option, run_name)
    graded = [i for i, r in enumerate(run.grades) if r.status == "graded"]
    said = [said_all[i] for i in graded]
    two_way = [two_way_all[i] for i in graded]
    three_way = [run.gold[i].category for i in graded]
    return (f"| {folder.name} | {len(graded)} ({len(run.gold) - len(graded)} ungraded) | "
            f"{literature_metrics(two_way, said)} | {literature_metrics(three_way, said)} |")


def paired_draws(folder: Path, head: str | None, against: str, run_name: str,
                 resamples: int = 2000) -> tuple[float, np.ndarray, int]:
    """2-way macro-F1 of `head` minus `against` on the same answers, and that difference on
    `resamples` paired bootstrap samples of the answers. Every set is seeded alike (0), so sets of
    one size share their resampled positions, applied to different answers: the intervals the
    rule of `evals/reversal_unseen/README.md` was judged on. Seeding each set on its own moved no
    end by more than 0.009 there (README, "Beetle's training answers beside the denials")."""
    _, said, gold = decided(folder, head, run_name)
    _, other, _ = decided(folder, against, run_name)
    both = [i for i in range(len(gold)) if "ungraded" not in (said[i], other[i])]
    rng = np.random.default_rng(0)
    arrays = tuple(np.array(x)[both] for x in (said, other, gold))

    def gap(index: np.ndarray) -> float:
        a, b, g = (x[index] for x in arrays)
        return float(f1_score(g, a, average="macro") - f1_score(g, b, average="macro"))

    n = len(both)
    return gap(np.arange(n)), np.array([gap(rng.integers(0, n, n)) for _ in range(resamples)]), n


def interval(draws: np.ndarray, level: float) -> str:
    low, high = np.percentile(draws, [50 * (1 - level), 50 * (1 + level)])
    return f"{low:+.3f} to {high:+.3f}"


def paired_differences(folders: list[Path], head: str | None, against: str, run_name: str,
                       level: float) -> list[str]:
    """One row per set, then the sets' mean difference, whose interval averages the sets' k-th
    bootstrap samples."""
    rows, means, draws = [], [], []
    for folder in folders:
        mean, drawn, answers = paired_draws(folder, head, against, run_name)
        rows.append(f"| {folder.name} | {answers} | {mean:+.3f} | {interval(drawn, level)} |")
        means.append(mean)
        draws.append(drawn)
    if len(folders) > 1:
        rows.append(f"| mean of {len(folders)} sets | | {np.mean(means):+.3f} | "
                    f"{interval(np.mean(draws, axis=0), level)} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("build", help="a course and a labelled file from one corpus and split")
    made.add_argument("--corpus", choices=["beetle", "scientsbank"], required=True)
    made.add_argument("--split", choices=["train", "test-ua", "test-uq", "test-ud"], required=True)
    made.add_argument("--limit", type=int, help="a random sample of this many answers (seeded)")
    made.add_argument("--seed", type=int, default=13)
    made.add_argument("--name", help="the folder's name under evals/out/semeval (default: corpus-split)")
    made.add_argument("--exclude", type=Path, action="append", default=[],
                      help="a built folder whose answers to leave out (repeatable)")
    scored = commands.add_parser("score", help="2-way and 3-way figures of a graded folder")
    scored.add_argument("folders", nargs="+", type=Path)
    scored.add_argument("--head", help="'plain' for P(yes) with thresholds; default: the shipped head")
    scored.add_argument("--run", default="run", help="the saved run's folder in each set (default: run)")
    scored.add_argument("--against", metavar="HEAD",
                        help="instead: 2-way macro-F1 of --head minus this head's, with a paired "
                             "bootstrap interval, and the sets' mean difference")
    scored.add_argument("--level", type=float, default=0.95,
                        help="the intervals' coverage (0.99 for five sets at 0.05 family-wise, Bonferroni)")
    args = parser.parse_args()
    if args.command == "build":
        build(args.corpus, args.split, args.limit, args.seed, args.name, args.exclude)
        return
    if args.against:
        print(f"| set | answers | 2-way macro-F1, head minus against | {args.level:.0%} interval |"
              "\n|---|---|---|---|")
        print("\n".join(paired_differences(args.folders, args.head, args.against, args.run, args.level)))
        return
    print("| set | answers | 2-way accuracy | 2-way macro-F1 | 2-way weighted F1 | 3-way accuracy "
          "| 3-way macro-F1 | 3-way weighted F1 |\n|---|---|---|---|---|---|---|---|")
    for folder in args.folders:
        print(score(folder, args.head, args.run))


if __name__ == "__main__":
    main()
