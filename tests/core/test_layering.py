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


ROOT = BOT.parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph(*packages: str) -> dict[str, set[str]]:
    """Module -> the project modules it imports, counting every import: module level,
    inside functions and under TYPE_CHECKING alike (a circle hidden there is still one)."""
    paths = [p for package in packages for p in (ROOT / package).rglob("*.py")]
    modules = {_module_name(p): p for p in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for module, _top in imported_modules(path):
            while module and module not in modules:
                module = module.rpartition(".")[0]
            if module and module != name:
                found.add(module)
        graph[name] = found
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                group.append(item)
                if item == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_import_graph_has_no_circle():
    assert _cycles(_graph("bot", "adapters")) == []


def test_layers_import_only_downwards():
    graph = _graph("bot", "adapters")
    offenders = []
    for module, imports in graph.items():
        for target in imports:
            if module.startswith("adapters.") and target.startswith("bot.storage"):
                offenders.append(f"{module} -> {target} (adapters reach storage via services)")
            if module.startswith("bot.views") and target.startswith("bot.commands"):
                offenders.append(f"{module} -> {target} (views never import the command layer)")
            if module == "bot.spec" and target not in ("bot.model",):
                offenders.append(f"{module} -> {target} (the spec types are a leaf)")
    assert offenders == []
