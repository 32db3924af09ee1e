"""The package's modules import each other without a cycle (module-level imports only).

Imports inside functions are deferred on purpose (lazy backends, fast --help) and are not
edges here; a cycle through module-level imports is what breaks import order and typing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import personaforge

ROOT = Path(personaforge.__file__).parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
                continue  # typing-only imports are never executed
            for t in targets:
                if t in modules and t != name:
                    graph[name].add(t)
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return [*stack[stack.index(m) :], m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_no_import_cycle_in_the_package() -> None:
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_cli_command_modules_import_only_the_app_module() -> None:
    graph = _graph()
    for name in graph:
        if name.startswith("personaforge.cli.") and name != "personaforge.cli.main":
            assert "personaforge.cli.main" not in graph[name], name


# The layers of ARCHITECTURE.md, top first. Imports go down (or stay within a layer), lazy
# imports inside functions included: a deferred import upward is still a layer crossed.
LAYERS: dict[str, int] = {
    "cli": 0, "queue": 1, "worker": 1, "commands": 2, "stages": 3, "runtime": 4,
    "captions": 5, "delivery": 5, "backends": 5, "media": 6, "core": 7, "text": 8,
    "assets": 9,
}  # fmt: skip
ENTRY_POINTS = {"personaforge.__main__"}


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], len(LAYERS)) if len(parts) > 1 else len(LAYERS)


def _upward_imports() -> list[str]:
    found = []
    for path in ROOT.rglob("*.py"):
        name = _module_name(path)
        if name in ENTRY_POINTS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                parent = node.module in ("personaforge", "personaforge.stages")
                targets = [f"{node.module}.{a.name}" if parent else node.module for a in node.names]
            found += [
                f"{name} -> {t}"
                for t in targets
                if t.startswith("personaforge.") and _layer(t) < _layer(name)
            ]
    return found


def test_imports_only_go_down_the_layers() -> None:
    assert _upward_imports() == []
    assert set(LAYERS) | {"__init__", "__main__"} >= {
        p.name if p.is_dir() else p.stem
        for p in ROOT.iterdir()
        if p.is_dir() and (p / "__init__.py").is_file()
    }, "a new package needs its place in LAYERS (and in ARCHITECTURE.md)"


def test_the_layer_check_sees_an_upward_import() -> None:
    assert _layer("personaforge.cli.app") < _layer("personaforge.stages.speak")
    assert _layer("personaforge.runtime.common") > _layer("personaforge.stages.parts.faces")
    assert _layer("personaforge.errors") == len(LAYERS)
