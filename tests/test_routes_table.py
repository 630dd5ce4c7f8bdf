"""ARCHITECTURE.md's table of which module serves which URL is the URL map, regenerated: it cannot go stale."""
from app.cli_routes import BEGIN, END, routes_table, with_routes_table
from tests.processes import ROOT


def test_the_routes_table_in_architecture_md_is_what_flask_routes_table_writes(app):
    document = (ROOT / "ARCHITECTURE.md").read_text()
    fresh = with_routes_table(document, routes_table(app))
    assert document == fresh, "ARCHITECTURE.md's routes table is stale: run `flask routes-table` and commit it"


def test_the_command_writes_the_table_between_its_markers(app, tmp_path):
    path = tmp_path / "ARCHITECTURE.md"
    path.write_text(f"# Before\n\n{BEGIN}\nold rows\n{END}\n\n## After\n")
    result = app.test_cli_runner().invoke(args=["routes-table", "--path", str(path)])
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert "old rows" not in text and text.startswith("# Before") and text.endswith("## After\n")
    assert "| `/projects/<id:project_id>/studio` | GET | `studio.bar` | `app/pages/studio.py` |" in text
    callbacks = "| `/webhooks/nanobanana` | POST | `upstreams.nanobanana_callback` | `app/api/upstream_callbacks.py` |"
    assert callbacks in text
