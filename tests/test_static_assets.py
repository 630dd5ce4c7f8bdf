"""Static files: content-hashed links kept for a year, gzip for text, and a favicon."""
import gzip
import os
import re

from flask import url_for


def test_static_links_carry_a_content_hash_and_are_kept_a_year(app, client):
    page = client.get("/login").get_data(as_text=True)
    css = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{10})"', page).group(1)
    response = client.get(css)
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"] and "immutable" in response.headers["Cache-Control"]
    stale = client.get("/static/css/app.css?v=0000000000")
    assert "immutable" not in stale.headers.get("Cache-Control", "")
    assert "immutable" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


def test_the_hash_follows_the_content(app, tmp_path):
    app.static_folder = str(tmp_path)
    (tmp_path / "x.css").write_text("a{}")
    with app.test_request_context():
        first = url_for("static", filename="x.css")
        (tmp_path / "x.css").write_text("a{color:red}")
        os.utime(tmp_path / "x.css", (1, 1))  # a different modification time, whatever the clock's resolution
        assert url_for("static", filename="x.css") != first
        assert url_for("static", filename="missing.css") == "/static/missing.css"


def test_text_is_sent_gzipped_to_clients_that_accept_it(client):
    plain = client.get("/static/vendor/htmx.min.js")
    zipped = client.get("/static/vendor/htmx.min.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data and len(zipped.data) < len(plain.data) / 2
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip" and b"Stagecraft" in gzip.decompress(page.data)


def test_a_gzipped_file_is_revalidated_with_304(client):
    first = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    assert etag.startswith("W/")
    again = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304


def test_images_and_small_answers_are_not_compressed(client):
    assert "Content-Encoding" not in client.get("/favicon.ico", headers={"Accept-Encoding": "gzip"}).headers
    assert "Content-Encoding" not in client.get("/healthz", headers={"Accept-Encoding": "gzip"}).headers


def test_the_favicon_is_served_and_linked(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    page = client.get("/login").get_data(as_text=True)
    svg = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    assert client.get(svg).mimetype == "image/svg+xml"
