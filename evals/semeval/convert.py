"""Rebuild the SemEval-2013 Task 7 JSONL files in this folder from pinned public git snapshots.

Three repositories, each read at a fixed commit with `git --git-dir=DIR show COMMIT:PATH`
(a bare mirror or the `.git` folder of an ordinary clone both work):

- myrosia/semeval-2013-task7 (the task organiser's release): `semeval-3way.zip`, the XML for
  both corpora with 2-way and 3-way labels, questions and reference answers. The primary source.
- ashudeep/Student-Response-Analysis: Beetle's 5-way gold labels (tab-separated, by answer id).
  The organiser's `semeval-5way.zip` would carry SciEntsBank's 5-way labels too, but its blob is
  not in any snapshot we could read, so SciEntsBank's `label_5way` is null.
- leocomelli/score-freetext-answer: an independent copy of the 2-way XML, used only as a
  cross-check (every answer's text and 2-way label must agree with the organiser's zip).

Run:  python3 evals/semeval/convert.py --myrosia DIR --ashudeep DIR --leocomelli DIR [--out DIR]
Exit codes: 0 written, 2 a source is missing or disagrees (one line on stderr says which).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

MYROSIA_COMMIT = "5157c69f914e8c581045c03e98f96398d40a91b8"
ASHUDEEP_COMMIT = "1d6d30b265e6038fd6f6395d4cfd6686aef4b97f"
LEOCOMELLI_COMMIT = "5fd154c863f8cf4df19463c02a1a3eb98e262aa6"
ZIP_PATH = "semeval-3way.zip"
ZIP_SHA256 = "783223ff624a70a5e6435fd49798b88d87d89d362d943695003a3e9f4060dbff"
BEETLE_GOLD = "semevalFormatProcessing-5way/{}"
LEOCOMELLI_ROOT = "src/main/resources/corpus/semeval2013-task7"
REPOS = {
    "myrosia": "myrosia/semeval-2013-task7",
    "ashudeep": "ashudeep/Student-Response-Analysis",
    "leocomelli": "leocomelli/score-freetext-answer",
}

# (corpus, split, folder under training/ or test/ below the "Nway" level, Beetle 5-way gold file)
SPLITS = [
    ("beetle", "train", "training/{way}/beetle", "trainingGold.txt"),
    ("beetle", "test-ua", "test/{way}/beetle/test-unseen-answers", "testGold-UA.txt"),
    ("beetle", "test-uq", "test/{way}/beetle/test-unseen-questions", "testGold-UQ.txt"),
    ("scientsbank", "train", "training/{way}/sciEntsBank", None),
    ("scientsbank", "test-ua", "test/{way}/sciEntsBank/test-unseen-answers", None),
    ("scientsbank", "test-uq", "test/{way}/sciEntsBank/test-unseen-questions", None),
    ("scientsbank", "test-ud", "test/{way}/sciEntsBank/test-unseen-domains", None),
]
FIVE_TO_THREE = {
    "correct": "correct",
    "contradictory": "contradictory",
    "partially_correct_incomplete": "incorrect",
    "irrelevant": "incorrect",
    "non_domain": "incorrect",
}


class SourceError(Exception):
    """A source file is missing, or two sources disagree."""


@dataclass(frozen=True)
class Reference:
    id: str
    category: str | None  # Beetle: BEST / GOOD / MINIMAL / KEYWORD; SciEntsBank gives none
    text: str


@dataclass(frozen=True)
class Answer:
    id: str
    corpus: str
    split: str
    question_id: str
    question: str
    reference_answers: list[Reference]
    answer: str
    label_5way: str | None
    label_3way: str
    label_2way: str


def git_show(git_dir: Path, commit: str, path: str) -> bytes:
    """The bytes of PATH at COMMIT in the repository whose git folder is GIT_DIR."""
    cmd = ["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"]
    try:
        done = subprocess.run(cmd, capture_output=True, check=False)
    except OSError as err:
        raise SourceError(f"cannot run git: {err}") from err
    if done.returncode != 0:
        raise SourceError(f"{git_dir}: cannot read {commit[:12]}:{path} ({done.stderr.decode().strip()})")
    return done.stdout


def organiser_zip(git_dir: Path) -> zipfile.ZipFile:
    """The organiser's 2-/3-way release, checked against the sha256 recorded in README."""
    blob = git_show(git_dir, MYROSIA_COMMIT, ZIP_PATH)
    digest = hashlib.sha256(blob).hexdigest()
    if digest != ZIP_SHA256:
        raise SourceError(f"{ZIP_PATH}: sha256 {digest}, expected {ZIP_SHA256}")
    return zipfile.ZipFile(io.BytesIO(blob))


def xml_files(names: list[str], folder: str) -> list[str]:
    """The question files directly in FOLDER, in name order."""
    found = sorted(n for n in names if n.rsplit("/", 1)[0] == folder and n.endswith(".xml"))
    if not found:
        raise SourceError(f"{ZIP_PATH}: no XML files in {folder}/")
    return found


def references(question: ET.Element) -> list[Reference]:
    """The question's reference answers, in document order."""
    refs = question.findall("referenceAnswers/referenceAnswer")
    return [Reference(r.get("id", ""), r.get("category"), r.text or "") for r in refs]


def read_questions(name: str, raw: bytes) -> tuple[ET.Element, list[ET.Element]]:
    """One question file: its root element and its student answers."""
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as err:
        raise SourceError(f"{ZIP_PATH}:{name}: not well-formed XML ({err})") from err
    return root, root.findall("studentAnswers/studentAnswer")


def labels_by_id(archive: zipfile.ZipFile, folder: str) -> dict[str, tuple[str, str]]:
    """Answer id -> (text, label) over every question file of one labelling of a split."""
    out: dict[str, tuple[str, str]] = {}
    for name in xml_files(archive.namelist(), folder):
        _, answers = read_questions(name, archive.read(name))
        for a in answers:
            out[a.get("id", "")] = (a.text or "", a.get("accuracy", ""))
    return out


def beetle_5way(git_dir: Path, gold_file: str) -> dict[str, str]:
    """Answer id -> 5-way label from one of ashudeep's tab-separated gold files."""
    path = BEETLE_GOLD.format(gold_file)
    lines = git_show(git_dir, ASHUDEEP_COMMIT, path).decode("utf-8").splitlines()
    if not lines or lines[0].split("\t")[0] != "id":
        raise SourceError(f"{path}: line 1: expected a header starting with 'id'")
    out: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != 6 or fields[5] not in FIVE_TO_THREE:
            raise SourceError(f"{path}: line {number}: expected 6 fields ending in a 5-way label")
        out[fields[0]] = fields[5]
    return out


def build_split(archive: zipfile.ZipFile, corpus: str, split: str, folder: str,
                five: dict[str, str] | None) -> list[Answer]:
    """Every answer of one split, 3-way XML as the base, 2-way and 5-way joined by id."""
    two = labels_by_id(archive, folder.format(way="2way"))
    rows: list[Answer] = []
    for name in xml_files(archive.namelist(), folder.format(way="3way")):
        question, answers = read_questions(name, archive.read(name))
        refs = references(question)
        qtext = question.findtext("questionText") or ""
        for a in answers:
            rows.append(make_answer(corpus, split, question.get("id", ""), qtext, refs, a, two, five))
    check_same_ids(f"{corpus} {split}", {r.id for r in rows}, set(two), "2-way XML")
    if five is not None:
        check_same_ids(f"{corpus} {split}", {r.id for r in rows}, set(five), "5-way gold")
    return rows


def make_answer(corpus: str, split: str, qid: str, qtext: str, refs: list[Reference], a: ET.Element,
                two: dict[str, tuple[str, str]], five: dict[str, str] | None) -> Answer:
    """One record; the 2-way copy must carry the same text, and every label must nest."""
    aid, text, label3 = a.get("id", ""), a.text or "", a.get("accuracy", "")
    text2, label2 = two.get(aid, ("", ""))
    if text2 != text:
        raise SourceError(f"{corpus} {split} {aid}: answer text differs between 2-way and 3-way XML")
    label5 = None if five is None else five.get(aid)
    check_nesting(f"{corpus} {split} {aid}", label5, label3, label2)
    return Answer(aid, corpus, split, qid, qtext, refs, text, label5, label3, label2)


def check_nesting(where: str, label5: str | None, label3: str, label2: str) -> None:
    """5-way collapses to 3-way, 3-way to 2-way, as the task defines them."""
    if label2 != ("correct" if label3 == "correct" else "incorrect"):
        raise SourceError(f"{where}: 3-way {label3!r} does not collapse to 2-way {label2!r}")
    if label5 is not None and FIVE_TO_THREE.get(label5) != label3:
        raise SourceError(f"{where}: 5-way {label5!r} does not collapse to 3-way {label3!r}")


def check_same_ids(where: str, ours: set[str], theirs: set[str], what: str) -> None:
    """Both sources must cover exactly the same answers."""
    if ours != theirs:
        extra, missing = sorted(theirs - ours)[:3], sorted(ours - theirs)[:3]
        raise SourceError(f"{where}: ids differ from {what} (only there: {extra}; missing there: {missing})")


def cross_check_leocomelli(git_dir: Path, archive: zipfile.ZipFile) -> int:
    """leocomelli's 2-way XML files must be byte-identical to the organiser's; returns the count."""
    names = [n for n in archive.namelist() if "/2way/" in n and n.endswith(".xml")]
    for name in names:
        if git_show(git_dir, LEOCOMELLI_COMMIT, f"{LEOCOMELLI_ROOT}/{name}") != archive.read(name):
            raise SourceError(f"{LEOCOMELLI_ROOT}/{name}: differs from {ZIP_PATH}:{name}")
    return len(names)


def write_jsonl(path: Path, rows: list[Answer]) -> None:
    """Compact JSON, one answer a line, UTF-8 kept as is."""
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(asdict(row), ensure_ascii=False, separators=(",", ":")) + "\n")


def summary(name: str, rows: list[Answer]) -> str:
    """One line of counts per label scheme, for the README's consistency table."""
    parts = [f"{name}: {len(rows)}"]
    for scheme in ("label_2way", "label_3way", "label_5way"):
        counts = Counter(str(getattr(r, scheme)) for r in rows)
        parts.append(f"{scheme[6:]} " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return " | ".join(parts)


def run(args: argparse.Namespace) -> None:
    archive = organiser_zip(args.myrosia)
    same = cross_check_leocomelli(args.leocomelli, archive)
    print(f"leocomelli 2-way XML identical to the organiser's: {same} files")
    seen: set[str] = set()
    for corpus, split, folder, gold in SPLITS:
        five = beetle_5way(args.ashudeep, gold) if gold else None
        rows = build_split(archive, corpus, split, folder, five)
        if seen & {r.id for r in rows}:
            raise SourceError(f"{corpus} {split}: answer ids repeat across splits")
        seen |= {r.id for r in rows}
        write_jsonl(args.out / f"{corpus}-{split}.jsonl", rows)
        print(summary(f"{corpus}-{split}", rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for flag, repo in REPOS.items():
        parser.add_argument(f"--{flag}", type=Path, required=True, help=f"git dir of {repo}")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    try:
        run(parser.parse_args())
    except SourceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
