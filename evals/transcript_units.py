"""What the answer-side rules keep of each gold answer typed and as a transcript, without the model.

`tutor.core.answer.prepare` sets aside questions, hedges and pleas before the judge reads an
answer. A transcript has no marks, so where the rules' unit is a sentence, a whole transcript is
one. This counts, per gold split, the words kept one way and not the other (each answer's kept
text in its spoken form, as word multisets), the answers whose kept words differ by more than a
fifth, and the answers that keep nothing as a transcript while more than five words are kept
typed. Run it at two commits to compare two versions of the rules.

    .venv/bin/python evals/transcript_units.py [--split train,dev,writers] [--list]
"""

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.core.answer import prepare, spoken_form  # noqa: E402
from tutor.teacher.evaluation import GoldAnswer, load_gold  # noqa: E402
from tutor.teacher.invariance import unpunctuated  # noqa: E402


@dataclass(frozen=True)
class Kept:
    id: str
    typed: int  # words kept typed
    lost: int  # kept typed, not as a transcript
    gained: int  # kept as a transcript, not typed
    emptied: bool  # nothing kept as a transcript, more than five words typed

    @property
    def moved(self) -> bool:
        return self.lost + self.gained > 0.2 * max(1, self.typed)


def words(sentences: list[str]) -> Counter[str]:
    return Counter(spoken_form(" ".join(sentences)).split())


def kept(gold: GoldAnswer) -> Kept:
    typed, heard = words(prepare(gold.answer).sentences), words(prepare(unpunctuated(gold.answer)).sentences)
    return Kept(gold.id, typed.total(), (typed - heard).total(), (heard - typed).total(),
                not heard and typed.total() > 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="train,dev,writers", help="gold splits, comma-separated")
    parser.add_argument("--list", action="store_true", help="also list the answers that move")
    args = parser.parse_args()
    rows = [kept(g) for split in args.split.split(",") for g in load_gold(split)]
    lost, gained = sum(r.lost for r in rows), sum(r.gained for r in rows)
    print(f"{args.split}: {len(rows)} answers, {sum(r.typed for r in rows)} words kept typed; "
          f"kept differently {lost + gained} (lost as a transcript {lost}, gained {gained}); "
          f"moved by more than a fifth {sum(r.moved for r in rows)}; "
          f"emptied as a transcript {sum(r.emptied for r in rows)}")
    if args.list:
        print("\n".join(f"{r.id}: lost {r.lost}, gained {r.gained}" for r in rows if r.moved))


if __name__ == "__main__":
    main()
