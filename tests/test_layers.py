"""Imports point one way (ARCHITECTURE.md): leaves → foundation → models → features → surfaces → entry.

`tests/import_graph.py` reads every import of app/, jobs/ and wsgi.py (absolute, relative,
`importlib.import_module`, inside functions); a new import against the written direction, or a
new knot between packages, fails here before it tangles the code. The last tests run the same
check on a copy of the tree with one violation injected, to show each kind is seen.
"""
import shutil
from pathlib import Path

import pytest

from tests.import_graph import (
    cycles,
    drawing_mismatches,
    package_cycles,
    problems,
    top_level_modules_drawn_elsewhere,
)

ROOT = Path(__file__).resolve().parents[1]


def test_every_import_points_down_the_written_map():
    assert problems(ROOT) == []


def test_no_package_imports_another_in_a_circle():
    assert package_cycles(ROOT) == []


def test_the_drawing_in_architecture_md_is_the_import_graph():
    assert drawing_mismatches(ROOT) == []


def test_every_top_level_module_is_drawn_on_its_layer():
    assert top_level_modules_drawn_elsewhere(ROOT) == []


def test_a_knot_is_found_with_every_package_in_it():
    edges = {"a": {"b": []}, "b": {"c": []}, "c": {"a": []}, "d": {"a": []}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b": []}, "b": {"c": []}}) == []


def copy_of_the_tree(tmp_path: Path) -> Path:
    """The product's sources and ARCHITECTURE.md under tmp_path, to break on purpose."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=ignore)
    shutil.copytree(ROOT / "jobs", tmp_path / "jobs", ignore=ignore)
    for name in ("wsgi.py", "ARCHITECTURE.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def append(path: Path, code: str) -> None:
    path.write_text(path.read_text() + "\n\n" + code + "\n")


INJECTED = {
    # A feature reaching up into a screen with a relative import.
    "upward relative import": (
        "app/credits/service.py", "from ..pages.listings import bp as _listing_screens",
        "app.credits.service → app.pages.listings: feature imports surface, a layer above it",
    ),
    # A service loading a JSON view by name.
    "importlib import": (
        "app/webhooks/service.py",
        'def _load_images_api():\n    import importlib\n    return importlib.import_module("app.api.images")',
        "app.webhooks.service → app.api.images: feature imports surface, a layer above it",
    ),
    # A lower feature importing a higher one inside a function (projects sits below generations).
    "function-level import": (
        "app/projects/service.py",
        "def _newest_generation():\n"
        "    from app.generations.service import list_generations\n"
        "    return list_generations",
        "app.projects.service → app.generations.service: no arrow projects ──► generations in ARCHITECTURE.md",
    ),
    # The CLI running the worker in-process: app → app.cli → jobs.worker → app.
    "cycle through entry modules": (
        "app/cli.py", "def _worker_in_process():\n    from jobs.worker import run_worker\n    return run_worker",
        "app.cli → jobs.worker: an entry module imports one that sits above it",
    ),
}


@pytest.mark.parametrize("kind", sorted(INJECTED))
def test_the_check_reports_each_kind_of_injected_violation(tmp_path, kind):
    path, code, expected = INJECTED[kind]
    tree = copy_of_the_tree(tmp_path)
    assert problems(tree) == [] and package_cycles(tree) == []
    append(tree / path, code)
    assert expected in problems(tree)


def test_the_check_reports_a_circle_through_the_entry_modules(tmp_path):
    tree = copy_of_the_tree(tmp_path)
    append(tree / "app/cli.py", INJECTED["cycle through entry modules"][1])
    assert ["app", "app.cli", "jobs.worker"] in package_cycles(tree)


def test_the_check_reports_a_circle_between_feature_packages(tmp_path):
    tree = copy_of_the_tree(tmp_path)
    append(tree / "app/projects/service.py", INJECTED["function-level import"][1])
    knot = next(part for part in package_cycles(tree) if "app.projects" in part)
    assert {"app.generations", "app.projects"} <= set(knot)


def test_a_module_the_map_does_not_place_is_reported(tmp_path):
    tree = copy_of_the_tree(tmp_path)
    (tree / "app/helpers.py").write_text('"""Somewhere to put things."""\n')
    assert "app.helpers has no layer in the map" in problems(tree)
