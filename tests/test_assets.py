"""The minified stylesheet and script that pages load are those of their sources."""

import os

import app


def test_the_minified_assets_are_up_to_date():
    for name, text in app.minified_assets().items():
        with open(os.path.join(app.HERE, "static", name), encoding="utf-8") as handle:
            assert handle.read() == text, f"static/{name} is not its source minified: run `make assets`"


def test_pages_load_the_minified_assets(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/static/app.min.css"' in html and 'src="/static/app.min.js"' in html
    assert "app.js" not in html.replace("app.min.js", "")
