"""`flask routes-table`: the table in ARCHITECTURE.md that says which module serves which URL, from the URL map."""
from pathlib import Path

import click
from flask import current_app

BEGIN, END = "<!-- routes-table:begin (flask routes-table writes this) -->", "<!-- routes-table:end -->"
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def routes_table(app) -> str:
    """One Markdown row per URL rule: path, methods, endpoint (the url_for name) and the module of its view."""
    rows = ["| URL | Methods | Endpoint | Module |", "| --- | --- | --- | --- |"]
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)):
        if rule.endpoint == "static":
            continue
        module = app.view_functions[rule.endpoint].__module__
        methods = ", ".join(sorted(set(rule.methods) - SKIPPED_METHODS))
        path = module.replace(".", "/") + ".py" if module != "app" else "app/__init__.py"
        rows.append(f"| `{rule.rule}` | {methods} | `{rule.endpoint}` | `{path}` |")
    return "\n".join(rows)


def with_routes_table(document: str, table: str) -> str:
    """The document with the text between the markers replaced by the table."""
    head, rest = document.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


@click.command("routes-table")
@click.option("--path", type=click.Path(path_type=Path), default=None, help="default ARCHITECTURE.md beside app/")
def routes_table_command(path):
    """Write the URL → module table into ARCHITECTURE.md (between its routes-table markers)."""
    path = path or Path(current_app.root_path).parent / "ARCHITECTURE.md"
    path.write_text(with_routes_table(path.read_text(), routes_table(current_app)))
    click.echo(f"Wrote the routes table to {path}")
