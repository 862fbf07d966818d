"""The generic machinery names no kind: everything kind-specific comes from the kinds' table.

A new kind is a module in `kinds/` and its schema in `api/`; if it needed an edit in `reconcile/`,
the machinery would be missing a seam (DESIGN §4).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from azbackup import reconcile
from azbackup.api import names

RECONCILE = Path(reconcile.__file__).parent
KIND_NAMES = {name.kind for name in names.ALL} | {name.plural for name in names.ALL}


def _code_words(source: str) -> set[str]:
    """Identifiers and string literals of the code, without comments and docstrings."""
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    words: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words.add(node.value)
        elif isinstance(node, ast.Name):
            words.add(node.id)
        elif isinstance(node, ast.Attribute):
            words.add(node.attr)
    return words


@pytest.mark.parametrize("module", sorted(RECONCILE.glob("*.py")), ids=lambda p: p.name)
def test_reconcile_module_names_no_kind(module: Path) -> None:
    words = _code_words(module.read_text())
    assert not {w for w in words for kind in KIND_NAMES if kind in w}
