"""The parsing package's shape: imports go one way, nothing is imported late to dodge a cycle,
no private name crosses a module boundary, and a missing dependency fails loudly."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

TASKS = REPO / "tasks"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str], bool]]:
    """(module imported, names, at top level?) for every import of ours in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tasks"):
            found.append((node.module, [a.name for a in node.names], id(node) in top))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tasks"):
                    found.append((alias.name, [], id(node) in top))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in TASKS.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, names, _top in _imports(path):
            for candidate in [f"{target}.{n}" for n in names] + [target]:
                if candidate in modules and candidate != name:
                    graph[name].add(candidate)
                    break
    return graph


def test_no_import_cycle_inside_tasks():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []
    # The package is layered as its docstring draws it: the cache sits on top of both paths.
    assert {"tasks.parse.fast", "tasks.parse.slow"} <= graph["tasks.parse.cache"]
    assert "tasks.parse.cache" not in graph["tasks.parse.fast"] | graph["tasks.parse.slow"]


def test_parsing_modules_import_at_top_level_and_no_private_names():
    late, private = [], []
    for path in (TASKS / "parse").rglob("*.py"):
        for target, names, top in _imports(path):
            if not top:
                late.append(f"{path.name}: {target}")
            private += [f"{path.name}: {target}.{n}" for n in names if n.startswith("_")]
    assert late == [] and private == []


def test_no_import_error_fallback_in_tasks():
    offenders = [str(p.relative_to(REPO)) for p in TASKS.rglob("*.py")
                 if "except ImportError" in p.read_text(encoding="utf-8")
                 or "except ModuleNotFoundError" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_a_missing_dependency_fails_loudly(tmp_path):
    # With mwparserfromhell hidden, importing the parser raises instead of parsing "generic" boxes.
    blocker = tmp_path / "mwparserfromhell.py"
    blocker.write_text("raise ImportError('mwparserfromhell hidden by the test')\n")
    result = subprocess.run([sys.executable, "-c", "import tasks.parse"], cwd=REPO,
                            env={"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "mwparserfromhell hidden by the test" in result.stderr


def test_cn2an_is_imported_at_first_use_but_a_missing_one_fails_at_import():
    """cn2an (Chinese numerals) costs ≈ 0.5 s to import: every `infobox` command imports the
    parser, few texts need it. Not importable → importing the parser fails, as for any other
    dependency; importable → imported when a Chinese numeral is first read."""
    missing = subprocess.run([sys.executable, "-c", "import sys; sys.modules['cn2an'] = None; "
                              "import tasks.parse"], cwd=REPO, capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode != 0 and "No module named 'cn2an'" in missing.stderr
    lazy = subprocess.run([sys.executable, "-c", "import sys; import tasks.parse; "
                           "from tasks.parse.conflict.numbers import find_quantities; "
                           "before = 'cn2an' in sys.modules; q = find_quantities('三千五百人', 'zh'); "
                           "print(before, 'cn2an' in sys.modules, q[0].low)"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert lazy.stdout.split() == ["False", "True", "3500"], lazy.stderr
