"""Code-shape measures for the closing notes of refactors: function lengths and file sizes.

    python evals/shape.py [PACKAGE_DIR]      (default: tutor)

Function length counts every line from `def` to the last line of the body, docstring included."""

import ast
import statistics
import sys
from pathlib import Path


def function_lengths(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.end_lineno - node.lineno + 1 for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno]


def main(root: Path) -> None:
    files = sorted(root.rglob("*.py"))
    lengths = [n for f in files for n in function_lengths(f)]
    sizes = sorted(((len(f.read_text(encoding="utf-8").splitlines()), f) for f in files), reverse=True)
    deciles = statistics.quantiles(lengths, n=10)
    print(f"{len(files)} files, {sum(s for s, _ in sizes)} lines, {len(lengths)} functions")
    print(f"function length: median {statistics.median(lengths):.0f}, p90 {deciles[-1]:.0f}, "
          f"max {max(lengths)}")
    print("largest files: " + ", ".join(f"{f.relative_to(root)} {s}" for s, f in sizes[:3]))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tutor"))
