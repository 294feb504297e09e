"""The core imports no chat platform, and only the CLI imports adapters (lazily)."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
FORBIDDEN = ("telegram", "discord", "adapters")


def imported_modules(path: Path) -> list[tuple[str, bool]]:
    """(module, at module level?) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, id(node) in top_level))
    return found


def test_core_never_imports_a_platform_library():
    offenders = []
    for path in BOT.rglob("*.py"):
        for module, top in imported_modules(path):
            root = module.split(".")[0]
            if root in FORBIDDEN and not (path.name == "cli.py" and root == "adapters"
                                          and not top):
                offenders.append(f"{path.relative_to(BOT.parent)} imports {module}")
    assert offenders == []
