"""The house plan as code: which layer each module lives on, and every import that breaks it.

Every function takes the tree's root, so tests can run the same check on a copy with injected
violations. An import is anything that loads one of our modules: `import x`, `from x import y`,
relative imports, `importlib.import_module("literal")`, at module level or inside a function.
"""
import ast
import functools
import re
from pathlib import Path

# Bottom to top; an import may point at its own layer or one below (the rules per layer are in `problems`).
LAYERS = ("leaf", "foundation", "model", "feature", "surface", "entry")
LEAF_PACKAGES = ("app.catalog", "app.imaging")
FOUNDATION = {
    "app.after_commit", "app.assets", "app.config", "app.database", "app.embedded", "app.errors", "app.extensions",
    "app.formkeys", "app.guards", "app.logs", "app.outbound", "app.pagination", "app.sse", "app.timeutil", "app.urls",
}
SURFACE_PACKAGES = ("app.pages", "app.api", "jobs")
# Entry modules top to bottom: each may import only the ones after it (and any layer below).
ENTRY_ORDER = (
    "wsgi", "jobs.worker", "jobs.cron", "app", "app.cli", "app.web", "app.cli_credits", "app.cli_routes",
    "app.supervisor",
)
ARROW_LINE = re.compile(r"^\s*(\w+) ─*► ([^(]*)")


def sources(root: Path) -> list[Path]:
    """The Python files of the product: app/, jobs/ and wsgi.py."""
    return sorted([*root.glob("app/**/*.py"), *root.glob("jobs/**/*.py"), root / "wsgi.py"])


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str, packages: frozenset[str] = frozenset()) -> str | None:
    """The module's layer in the written map (`packages`: the names that are packages), or None if unplaced."""
    parts = module.split(".")
    if module in ENTRY_ORDER:
        return "entry"
    if any(_within(module, package) for package in SURFACE_PACKAGES):
        return "surface"
    if any(_within(module, package) for package in LEAF_PACKAGES):
        return "leaf"
    if module in FOUNDATION:
        return "foundation"
    if module == "app.models" or (len(parts) >= 3 and parts[-1] == "models" and parts[0] == "app"):
        return "model"
    if parts[0] == "app" and (len(parts) >= 3 or module in packages):
        return "feature"
    return None


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def node_of(module: str, packages: frozenset[str]) -> str:
    """The node a module belongs to in the package graph: its package under app/, else the module itself."""
    parts = module.split(".")
    if parts[0] == "app" and len(parts) >= 2 and (len(parts) >= 3 or module in packages):
        return f"app.{parts[1]}"
    return module


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name a relative `from` import starts at."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _nearest(name: str, modules: set[str]) -> str | None:
    """The module `name` loads: itself, or the module that defines the attribute it names."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


@functools.lru_cache(maxsize=None)
def _statements(text: str, module: str, is_package: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The file's imports as (absolute base, names imported from it); a plain import has no names.

    Cached by the file's text, so checking a copy of the tree parses only the files that differ.
    """
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((_resolve(module, is_package, node), tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.Call) and _is_import_module(node.func) and node.args:
            if isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.args[0].value, ()))
    return tuple(found)


def imports_of(root: Path, path: Path, modules: set[str]) -> set[str]:
    """Every module of ours that one file loads, wherever the import statement sits."""
    module, found = module_name(root, path), set()
    for base, names in _statements(path.read_text(), module, path.name == "__init__.py"):
        named = {f"{base}.{name}" for name in names} & modules
        # "from app import database" loads app.database; "from app.x import y" loads app.x itself.
        found.update(named if names and len(named) == len(names) else {_nearest(base, modules), *named})
    return found - {None, module}


def _is_import_module(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id in ("import_module", "__import__")
    )


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the modules of ours it imports, for the whole tree."""
    paths = sources(root)
    modules = {module_name(root, path) for path in paths}
    return {module_name(root, path): imports_of(root, path, modules) for path in paths}


def drawn_arrows(root: Path) -> dict[str, set[str]]:
    """The feature-package arrows drawn in ARCHITECTURE.md (`a ──► b, c   (why)`), as app.a → {app.b, app.c}."""
    text = (root / "ARCHITECTURE.md").read_text()
    block = text.split("<!-- feature-arrows -->", 2)[1]
    arrows = {}
    for line in block.splitlines():
        if match := ARROW_LINE.match(line):
            targets = {name.strip() for name in match.group(2).split(",") if name.strip()}
            arrows[f"app.{match.group(1)}"] = {f"app.{name}" for name in targets}
    return arrows


def packages_of(graph: dict[str, set[str]]) -> frozenset[str]:
    """The modules that are packages (an __init__.py with modules below it)."""
    return frozenset(name for name in graph if any(other.startswith(name + ".") for other in graph))


def package_edges(graph: dict[str, set[str]]) -> dict[str, dict[str, list[str]]]:
    """Node → node → the module imports that make that edge."""
    packages = packages_of(graph)
    edges: dict[str, dict[str, list[str]]] = {}
    for source, targets in graph.items():
        for target in targets:
            a, b = node_of(source, packages), node_of(target, packages)
            if a != b:
                edges.setdefault(a, {}).setdefault(b, []).append(f"{source} → {target}")
    return edges


def problems(root: Path) -> list[str]:
    """Every import against the written direction, and every module the map does not place."""
    graph, arrows = import_graph(root), drawn_arrows(root)
    packages = packages_of(graph)
    found = [f"{module} has no layer in the map" for module in sorted(graph) if layer_of(module, packages) is None]
    for source in sorted(graph):
        for target in sorted(graph[source]):
            if why := _against(source, target, packages, arrows):
                found.append(f"{source} → {target}: {why}")
    return found


def _against(source: str, target: str, packages: frozenset[str], arrows: dict[str, set[str]]) -> str | None:
    """Why one import breaks the map, or None."""
    mine, theirs = layer_of(source, packages), layer_of(target, packages)
    if mine is None or theirs is None:
        return None
    if LAYERS.index(theirs) > LAYERS.index(mine):
        return f"{mine} imports {theirs}, a layer above it"
    a, b = node_of(source, packages), node_of(target, packages)
    if a == b or LAYERS.index(theirs) < LAYERS.index(mine) and {mine, theirs} != {"feature", "model"}:
        return None
    if mine == "entry" and ENTRY_ORDER.index(target) < ENTRY_ORDER.index(source):
        return "an entry module imports one that sits above it"
    if mine == "surface":
        return "screens, APIs and jobs do not import each other"
    if source == "app.models" or mine in ("leaf", "foundation", "entry"):
        return None
    if b not in arrows.get(a, set()):
        return f"no arrow {a.removeprefix('app.')} ──► {b.removeprefix('app.')} in ARCHITECTURE.md"
    return None


def cycles(edges: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The knots of a directed graph: every strongly connected part with more than one node, sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            part = []
            while not part or part[-1] != node:
                part.append(stack.pop())
                on_stack.discard(part[-1])
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(set(edges) | {t for targets in edges.values() for t in targets}):
        if node not in index:
            visit(node)
    return sorted(found)


def package_cycles(root: Path) -> list[list[str]]:
    """The import knots between packages (and the top-level modules, each a node of its own)."""
    return cycles(package_edges(import_graph(root)))


def drawing_mismatches(root: Path) -> list[str]:
    """Feature packages missing from the ARCHITECTURE.md drawing, and arrows drawn that no import makes."""
    graph, arrows = import_graph(root), drawn_arrows(root)
    packages = packages_of(graph)
    features = {node_of(m, packages) for m in graph if layer_of(m, packages) in ("feature", "model")} - {"app.models"}
    found = [f"{name.removeprefix('app.')} is not in the drawing" for name in sorted(features - set(arrows))]
    edges = package_edges(graph)
    for source, targets in sorted(arrows.items()):
        found += [f"{source.removeprefix('app.')} ──► {target.removeprefix('app.')} is drawn but no module imports it"
                  for target in sorted(targets) if target not in edges.get(source, {})]
    return found


ROW_LAYERS = {"entry": "entry", "surfaces": "surface", "features": "feature", "models": "model",
              "foundation": "foundation", "leaves": "leaf"}


def layer_rows(root: Path) -> dict[str, str]:
    """The text of each row of the layer drawing in ARCHITECTURE.md, by layer."""
    block = (root / "ARCHITECTURE.md").read_text().split("<!-- layers -->", 2)[1]
    rows, current = {}, None
    for line in block.splitlines():
        label = line[:14].strip()
        if label in ROW_LAYERS:
            current = ROW_LAYERS[label]
        if current:
            rows[current] = rows.get(current, "") + " " + line[14:]
    return rows


def top_level_modules_drawn_elsewhere(root: Path) -> list[str]:
    """Modules directly under app/ whose file name is missing from the row of their layer in the drawing."""
    graph = import_graph(root)
    packages, rows = packages_of(graph), layer_rows(root)
    found = []
    for path in sorted((root / "app").glob("*.py")):
        layer = layer_of(module_name(root, path), packages)
        if not re.search(rf"(?<![\w/]){re.escape(path.name)}", rows.get(layer, "")):
            found.append(f"app/{path.name} ({layer}) is not in the {layer} row of the layer drawing")
    return found
