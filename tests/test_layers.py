"""Imports point one way (ARCHITECTURE.md): leaves → foundation → models → services → web and jobs.

The test reads every module's imports with ast, so a new import against the direction, or a
new knot between feature packages, fails here before it tangles the code.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("leaf", "foundation", "model", "service", "entry")

LEAF_PACKAGES = ("app.catalog", "app.imaging")
FOUNDATION = {
    "app.after_commit", "app.config", "app.database", "app.embedded", "app.errors", "app.extensions", "app.formkeys",
    "app.guards", "app.logs", "app.outbound", "app.pagination", "app.timeutil", "app.urls",
}
# Modules that take requests or run work: they may import anything below them.
ENTRY_NAMES = {"routes", "serializers", "api", "workflow"}
ENTRY_MODULES = {"app", "app.web", "app.cli", "app.cli_credits", "app.supervisor", "app.idempotency", "wsgi"}


def layer_of(module: str) -> str:
    last = module.rsplit(".", 1)[-1]
    if module.startswith(LEAF_PACKAGES) or module == "app.timeutil":
        return "leaf"
    if module in FOUNDATION:
        return "foundation"
    if module in ENTRY_MODULES or module.startswith("jobs") or last in ENTRY_NAMES:
        return "entry"
    if last == "models" or module == "app.models":
        return "model"
    return "service"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_imports(path: Path) -> set[str]:
    """The modules of ours that a file imports (from-imports of a package count as its modules)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & ALL_MODULES
            # "from app import database" imports the module app.database; "from app.x import y" imports from app.x.
            found.update(submodules if len(submodules) == len(node.names) else {node.module, *submodules})
    return found & ALL_MODULES


SOURCES = sorted([*ROOT.glob("app/**/*.py"), *ROOT.glob("jobs/**/*.py"), ROOT / "wsgi.py"])
ALL_MODULES = {module_name(path) for path in SOURCES}
IMPORTS = {module_name(path): project_imports(path) for path in SOURCES}


def feature(module: str) -> str | None:
    """The feature package of a module below the entry layer (app.generations.service → generations)."""
    parts = module.split(".")
    if len(parts) < 3 or parts[0] != "app" or layer_of(module) not in ("model", "service"):
        return None
    return parts[1]


@pytest.mark.parametrize("module", sorted(IMPORTS))
def test_imports_point_down(module):
    mine = LAYERS.index(layer_of(module))
    upward = [name for name in IMPORTS[module] if LAYERS.index(layer_of(name)) > mine and name != module]
    leaf_to_leaf = layer_of(module) == "leaf" and any(layer_of(name) != "leaf" for name in IMPORTS[module])
    assert not upward, f"{module} ({layer_of(module)}) imports {upward} from a layer above it"
    assert not leaf_to_leaf, f"{module} is a leaf and may import only other leaves"


def test_feature_packages_below_the_entry_layer_form_no_cycle():
    edges: dict[str, set[str]] = {}
    for module, names in IMPORTS.items():
        source = feature(module)
        for name in names:
            target = feature(name)
            if source and target and target != source:
                edges.setdefault(source, set()).add(target)
    cycle = find_cycle(edges)
    assert cycle is None, f"feature packages import each other in a knot: {' → '.join(cycle)}"


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph as a path (first node repeated at the end), or None."""
    visiting, done = [], set()

    def visit(node):
        if node in visiting:
            return visiting[visiting.index(node):] + [node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(edges.get(node, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        visiting.pop()
        done.add(node)
        return None

    return next((cycle for node in sorted(edges) if (cycle := visit(node))), None)


def test_the_check_itself_finds_a_knot():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}}) is None
