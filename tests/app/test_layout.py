"""The package's shape (ARCHITECTURE.md): the folders follow the audio, imports point one way down the flow,
no import cycle, and the package root holds only the entry points, the shared messages and the folders."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import assistant

PACKAGE = Path(assistant.__file__).parent
# The flow: a module may import from its own folder or an earlier one, never a later one.
FLOW = ["config", "audio", "hearing", "brain", "speech", "turn", "remote", "service", "app", "bench", "cli"]
SHARED = {"events", "native_logs"}  # root modules every stage may use
ROOT_FILES = {"__init__.py", "__main__.py", "py.typed"} | {f"{name}.py" for name in SHARED}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """Every project module ``name`` imports: at the top, inside functions, and for type checking alike."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        yield from (target for target in targets if target in known and target != name)


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: set(imported(name, path, set(found))) for name, path in found.items()}


def stage(module: str) -> int:
    """Where a module stands in the flow: -1 for the shared root, len(FLOW) for the entry point."""
    parts = module.split(".")
    if parts[1:] == ["__main__"]:
        return len(FLOW)
    return FLOW.index(parts[1]) if len(parts) > 1 and parts[1] in FLOW else -1


def test_the_root_holds_only_the_folders_and_the_shared_modules() -> None:
    files = {p.name for p in PACKAGE.iterdir() if p.is_file()}
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name not in {"__pycache__", "data"}}
    assert files <= ROOT_FILES, files - ROOT_FILES
    assert folders == set(FLOW), folders ^ set(FLOW)


def test_imports_flow_one_way() -> None:
    upstream = [f"{a} imports {b}" for a, targets in graph().items() for b in targets if stage(b) > stage(a)]
    assert not upstream, "\n".join(sorted(upstream))


def test_there_is_no_import_cycle() -> None:
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_checks_can_fail() -> None:
    """The two checks above see a real arrow back up and a real cycle when there is one."""
    assert stage("assistant.hearing.vad") < stage("assistant.turn.pipeline") < stage("assistant.cli.main")
    edges = graph()
    assert "assistant.turn.stages" in edges["assistant.turn.pipeline"]  # imports inside the package are seen
    assert "assistant.hearing.whisper" in edges["assistant.app.build"]
