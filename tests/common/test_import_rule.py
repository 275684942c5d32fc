"""DESIGN.md's import rule for `common`: it sits below every app, so it imports none of ours
(models it needs are looked up by name, through django.apps)."""

import ast
from pathlib import Path

import common

OUR_APPS = {"portal", "tenants", "catalog", "provisioning", "frontend"}


def _imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_common_imports_no_app_of_ours():
    root = Path(common.__file__).parent
    offending = {
        f"{path.relative_to(root.parent)}: {module}"
        for path in root.rglob("*.py")
        for module in _imported_modules(path)
        if module.split(".")[0] in OUR_APPS
    }
    assert not offending
