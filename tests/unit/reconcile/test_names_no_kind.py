"""Only `kinds/` and `api/` name a kind: everything kind-specific comes from the kinds' table.

A new kind is a module in `kinds/` and its schema in `api/`; if it needed an edit in `reconcile/`,
`controllers/`, `metrics.py` or anywhere else in the machinery, a seam would be missing (DESIGN §4).
The dev tools are exempt: they drive the operator from outside, as a user with kubectl does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import azbackup
import pytest
from azbackup import kinds

PACKAGE = Path(azbackup.__file__).parent
# Where a kind may be named: its own modules, its schema, and the dev tools (clients of the API).
# reasons.py holds every kind's reasons by design (one table, generated into the README).
ALLOWED = ("kinds", "api", "devtools", "reasons.py")
MACHINERY = sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in ALLOWED)
KIND_NAMES = {name.kind for name in kinds.NAMES} | {name.plural for name in kinds.NAMES}


def _code_words(source: str) -> set[str]:
    """Identifiers and string literals of the code, without comments, docstrings and prose.

    A message with spaces may tell the user which kind to create; a token (`"RestoreDrill"`,
    `obj.kind == "vmrestores"`) is a per-kind branch. The typed specs of `api/` (`ProtectedVMSpec`)
    are schema, which body builders may take.
    """
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    words: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if not any(c.isspace() for c in node.value):
                words.add(node.value)
        elif isinstance(node, ast.Name):
            words.add(node.id)
        elif isinstance(node, ast.Attribute):
            words.add(node.attr)
    return {w for w in words if not w.endswith("Spec")}


@pytest.mark.parametrize("module", MACHINERY, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_machinery_module_names_no_kind(module: Path) -> None:
    words = _code_words(module.read_text())
    assert not {w for w in words for kind in KIND_NAMES if kind in w}
