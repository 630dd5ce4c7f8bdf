"""The Alembic migrations build exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == [], "run `flask db migrate` to add a migration for these model changes"


def test_photos_uploaded_before_listings_had_an_order_keep_theirs(tmp_path):
    """The studio's migration numbers existing photos oldest first, per listing, so new uploads come after them."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app import create_app

    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "STAGECRAFT_VAR_DIR": str(tmp_path), "TESTING": True})
    with app.app_context():
        upgrade(revision="d41f7a3c9e20")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO workspaces (id, name, credit_balance, created_at) VALUES (1, 'w', 0, '2026-01-01')"
            ))
            for project_id in (1, 2):
                connection.execute(sa.text(
                    "INSERT INTO projects (id, workspace_id, name, kind, live_secret, allowed_origins,"
                    " live_miss_budget, created_at) VALUES (:id, 1, 'p', 'listing', 's', '[]', 1, '2026-01-01')"
                ), {"id": project_id})
            for image_id, project_id, source, created in (
                ("c", 1, "uploaded", "2026-01-03"), ("a", 1, "uploaded", "2026-01-01"),
                ("x", 1, "generated", "2026-01-02"), ("b", 1, "uploaded", "2026-01-02"),
                ("z", 2, "uploaded", "2026-01-05"),
            ):
                connection.execute(sa.text(
                    "INSERT INTO images (id, project_id, source, storage_key, mime, width, height, size_bytes,"
                    " sha256, meta, created_at) VALUES (:id, :project, :source, 'k', 'image/jpeg', 1, 1, 1, 'h', '{}',"
                    " :created)"
                ), {"id": image_id, "project": project_id, "source": source, "created": created})
        upgrade()
        with db.engine.connect() as connection:
            positions = dict(connection.execute(sa.text("SELECT id, position FROM images")).all())
        db.engine.dispose()
    assert positions == {"a": 1, "b": 2, "c": 3, "z": 1, "x": None}
