"""
Print the import cycles among the project's own modules and apps.

    .venv/bin/python scripts/import_graph.py [REPOSITORY_ROOT]

Every ``.py`` file of the project's packages (not tests, not migrations) is parsed with
``ast``; an import inside a function counts like one at the top of a module, because a
deferred import is still a dependency, only one that fails later. Imports are read, never
executed, so the answer does not depend on settings or installed services. Names built at
run time (``include("shop.urls")``, ``import_string``, the strings in ``MIDDLEWARE``) are
not imports and are not followed.

It prints the cycles between modules, the cycles between apps (top-level packages, with the
root URLconf and the settings as nodes of their own: see COMPOSITION_ROOT), the core apps'
imports of the edges and any import of the composition root, and exits 1 if it found any.
tests/test_import_graph.py asserts the same things through ``problems()``.
"""

import ast
import sys
from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

PROJECT_PACKAGES = (
    "accounts",
    "shop",
    "api",
    "compare",
    "config",
    "fastpath",
    "webclient",
    "resource_server",
    "bench",
    "scripts",
)
SKIPPED_DIRECTORIES = {"migrations", "__pycache__", "static", "templates", "results"}

# The core holds the shop and the accounts once for both edges; it must not depend on an
# edge (the API, the comparison pages), on DRF, or on the optional speed work.
CORE_APPS = ("accounts", "shop")
CORE_MAY_NOT_IMPORT = ("rest_framework", "rest_framework_simplejwt", "api", "compare", "fastpath")

# The root URLconf, the settings and the server entry points name every app: that is their
# job, and Django loads them by name, no module imports them. In the app graph each is a
# node of its own above the apps, not a part of the config package whose helpers the apps
# import (config.errors, config.cache_control); merged, every app that uses a helper would
# be "in a cycle" with config. problems() checks that nothing imports them.
COMPOSITION_ROOT = ("config.urls", "config.settings", "config.wsgi", "config.asgi")

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


def app_of(module: str) -> str:
    """Return the app a module belongs to: its top-level package, or its composition root."""
    for root in COMPOSITION_ROOT:
        if module == root or module.startswith(root + "."):
            return root
    return module.partition(".")[0]


@dataclass
class ImportGraph:
    """Which project module imports which, with the line of the first import of each pair."""

    # module -> {imported project module: line}
    edges: dict[str, dict[str, int]] = field(default_factory=dict)
    # module -> {every module it imports from, project or not, absolute: line}
    names: dict[str, dict[str, int]] = field(default_factory=dict)

    def app_edges(self) -> dict[str, dict[str, list[tuple[str, str, int]]]]:
        """Collapse the graph to apps: app -> {imported app: [(module, imported, line)]}."""
        apps: dict[str, dict[str, list[tuple[str, str, int]]]] = {}
        for module, targets in sorted(self.edges.items()):
            app = app_of(module)
            apps.setdefault(app, {})
            for target, line in sorted(targets.items()):
                target_app = app_of(target)
                if target_app != app:
                    apps[app].setdefault(target_app, []).append((module, target, line))
        return apps


def module_files(root: Path = REPOSITORY_ROOT) -> dict[str, Path]:
    """Return every module of the project's packages, by dotted name."""
    modules = {}
    for package in PROJECT_PACKAGES:
        if not (root / package).is_dir():
            continue
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            if SKIPPED_DIRECTORIES.intersection(relative.parts[:-1]):
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imports(module: str, path: Path, tree: ast.AST) -> list[tuple[str, str | None, int]]:
    # Every import as (absolute module name, name taken from it or None, line).
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, None, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.extend((base, alias.name, node.lineno) for alias in node.names)
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    # The longest prefix of the name that is a project module: ``import a.b.c`` of a
    # package's module, or a name that is not a module at all.
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph(root: Path = REPOSITORY_ROOT) -> ImportGraph:
    """Parse the project's modules and return the graph of their imports of each other."""
    modules = module_files(root)
    graph = ImportGraph()
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges = graph.edges.setdefault(module, {})
        names = graph.names.setdefault(module, {})
        for base, name, line in _imports(module, path, tree):
            names.setdefault(base, line)
            # ``from a import b`` imports the module a.b if there is one, else a name in a.
            submodule = f"{base}.{name}" if name else None
            target = submodule if submodule in modules else _resolve(base, modules)
            if target is not None and target != module:
                edges[target] = min(line, edges.get(target, line))
    return graph


def strongly_connected(edges: dict[str, dict]) -> list[list[str]]:
    """Return the groups of nodes that reach each other (Tarjan), each sorted, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        # Recursive: a path through the project's modules is far shorter than the limit.
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(groups, key=lambda group: (-len(group), group))


def _shortest_cycle(edges: dict[str, dict], start: str, allowed: set[str]) -> list[str] | None:
    # Breadth first from start, back to start, staying inside its strongly connected group.
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(edges.get(node, {})):
            if target not in allowed:
                continue
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if target not in previous:
                previous[target] = node
                queue.append(target)
    return None


def cycles(edges: dict[str, dict]) -> list[list[str]]:
    """
    Return, for every group of nodes that import each other, the shortest cycle through each
    of its members (each cycle once), as paths that end where they start.
    """
    found = []
    seen = set()
    for group in strongly_connected(edges):
        for start in group:
            cycle = _shortest_cycle(edges, start, set(group))
            if cycle is None:
                continue
            # The same cycle seen from another member: compare rotations.
            turn = cycle.index(min(cycle[:-1]))
            key = tuple(cycle[turn:-1] + cycle[:turn])
            if key not in seen:
                seen.add(key)
                found.append(cycle)
    return found


def _describe_module_cycle(graph: ImportGraph, cycle: list[str]) -> str:
    steps = [f"{source} (line {graph.edges[source][target]})" for source, target in pairwise(cycle)]
    return " -> ".join([*steps, cycle[-1]])


def _describe_app_cycle(app_edges, cycle: list[str]) -> str:
    steps = []
    for source, target in pairwise(cycle):
        imports = app_edges[source][target]
        shown = ", ".join(
            f"{module}:{line} imports {imported}" for module, imported, line in imports
        )
        steps.append(f"{source} [{shown}]")
    return " -> ".join([*steps, cycle[-1]])


def core_imports_of_edges(graph: ImportGraph) -> list[str]:
    """Return, readably, every import by a core app of an edge, DRF or the speed work."""
    found = []
    for module, names in sorted(graph.names.items()):
        if module.partition(".")[0] not in CORE_APPS:
            continue
        for name, line in sorted(names.items(), key=lambda item: (item[1], item[0])):
            if name.partition(".")[0] in CORE_MAY_NOT_IMPORT:
                found.append(f"{module} (line {line}) imports {name}")
    return found


def composition_root_imports(graph: ImportGraph) -> list[str]:
    """Return every import of the root URLconf, the settings or an entry point from outside it."""
    return [
        f"{module} (line {line}) imports {target}"
        for module, targets in sorted(graph.edges.items())
        for target, line in sorted(targets.items())
        if app_of(target) in COMPOSITION_ROOT and app_of(target) != app_of(module)
    ]


def problems(root: Path = REPOSITORY_ROOT) -> dict[str, list[str]]:
    """
    Return, readably: the cycles between modules, the cycles between apps, the core's
    imports of an edge, and the imports of the composition root.
    """
    graph = import_graph(root)
    app_edges = graph.app_edges()
    return {
        "module cycles": [_describe_module_cycle(graph, c) for c in cycles(graph.edges)],
        "app cycles": [_describe_app_cycle(app_edges, c) for c in cycles(app_edges)],
        "core imports of edges": core_imports_of_edges(graph),
        "imports of the composition root": composition_root_imports(graph),
    }


def report(found: dict[str, list[str]]) -> str:
    """Render problems() as a few numbered lists."""
    lines = []
    for heading, items in found.items():
        lines.append(f"{heading}: {len(items)}")
        lines.extend(f"  {number}. {item}" for number, item in enumerate(items, 1))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    root = Path(argv[1]).resolve() if len(argv) > 1 else REPOSITORY_ROOT
    found = problems(root)
    print(report(found))
    return 1 if any(found.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
