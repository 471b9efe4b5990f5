"""Every bundled rubric's own reference answer as a labelled answer, typed and unpunctuated.

The model-tier test `tests/core/test_reference_answers_model.py` grades them through the model;
this file lets `tutor eval` save their signals once, so any head can re-decide them without the
model (`tutor --head H eval --from RUN --labelled FILE`): a reference answer states every key
point and no misconception, and its mark is full.

    .venv/bin/python evals/reference_answers.py evals/out/refs/labelled.jsonl
    .venv/bin/tutor eval --labelled evals/out/refs/labelled.jsonl --out evals/out/refs/run
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tutor.core.bank import load_bank  # noqa: E402
from tutor.teacher.invariance import unpunctuated  # noqa: E402

FORMS = {"typed": str, "unpunctuated": unpunctuated}


def main() -> None:
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for form, written in FORMS.items():
        for rubric in load_bank().rubrics:
            lines.append(json.dumps({
                "id": f"ref-{form}-{rubric.id}", "question_id": rubric.id, "category": "reference",
                "source": f"reference-{form}", "answer": written(rubric.reference_answer), "mark": 1.0,
                "band": "full", "key_points": {k.id: True for k in rubric.key_points},
                "misconceptions": {m.id: False for m in rubric.misconceptions}}))
    out.write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} reference answers → {out}")


if __name__ == "__main__":
    main()
