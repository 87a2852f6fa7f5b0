"""The templates escape what they show exactly as MarkupSafe does (routes/templating.py)."""

import re

import jinja2
import pytest
from flask_babel.speaklater import LazyString
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from routes.templating import TemplateMacros, escape_to_str

from .conftest import edit_registry


class Shown:
    def __html__(self):
        return "<b>trusted</b>"


@given(st.text())
def test_text_is_escaped_as_markupsafe_escapes_it(text):
    assert escape_to_str(text) == str(escape(text))


@pytest.mark.parametrize("value", [
    Markup("<em>al veilig</em>"), Shown(), LazyString(lambda: "<i>lui</i>"), 12, 0, None, 1.5, True,
    ["<a>"], "&'\"<>",
])
def test_other_values_are_escaped_as_markupsafe_escapes_them(value):
    assert escape_to_str(value) == str(escape(value))


def test_a_value_escaped_once_is_not_escaped_again(app):
    with app.app_context():
        html = app.jinja_env.from_string(
            "{% macro shown(value) %}<b>{{ value }}</b>{% endmacro %}"
            "{% set block %}{{ value }}{% endset %}"
            "{{ shown(value) }}|{{ block }}|{{ value ~ '&' }}|{{ value | e }}").render(value="<&>")
    assert html == "<b>&lt;&amp;&gt;</b>|&lt;&amp;&gt;|&lt;&amp;&gt;&amp;|&lt;&amp;&gt;"


PAGES = ["/stap/2", "/stap/3", "/stap/4", "/stap/5", "/stap/6", "/stap/6/code/01051234/1", "/stap/7",
         "/stap/7/toevoegen", "/stap/8", "/stap/9"]


def _shown(applicant, page: str, htmx: bool) -> str:
    """The page, its CSRF token aside: signed afresh with the time, it changes from second to second."""
    html = applicant.get(page, htmx=htmx).get_data(as_text=True)
    return re.sub(r"[\w-]+\.[\w-]{6}\.[\w-]{27}", "CSRF", html)


def _with_jinjas_own_templates(app):
    app.jinja_env.template_class = jinja2.Template
    app.jinja_env.cache.clear()
    for value in app.jinja_env.globals.values():
        if isinstance(value, TemplateMacros):
            value.template = None


@pytest.fixture
def hostile_names(registry_path):
    """The registry's names of companies, officers and codes carry markup and quotes."""
    def change(data):
        marked = ' <script>"&\'</script>'
        for company in data["companies"]:
            company["naam"] += marked
            company["handelsnamen"] = [name + marked for name in company["handelsnamen"]]
            for officer in company["functionarissen"]:
                officer["achternaam"] += marked
        for code in data["agb"]:
            code["naam"] += marked
    edit_registry(registry_path, change)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_every_step_reads_the_same_as_with_jinjas_own_escaping(hostile_names, app, at_step_9, htmx):
    """Names with markup in them (the registry's, and typed ones) come out byte for byte as
    Jinja's own templates write them."""
    added = at_step_9.submit("/stap/7/toevoegen", {"name": "O'Neil & Zn", "email": "bea@example.nl",
                                                    "phone": "0612345678"}, page="/stap/7/toevoegen")
    assert added.status_code == 303
    assert "Gelukt" in at_step_9.get(added.headers["Location"]).get_data(as_text=True)  # shown once
    assert app.jinja_env.get_template("layout.html").root_render_func.__globals__["escape"] is escape_to_str
    ours = {page: _shown(at_step_9, page, htmx) for page in PAGES}
    _with_jinjas_own_templates(app)
    jinjas = {page: _shown(at_step_9, page, htmx) for page in PAGES}
    for page in PAGES:
        assert "CSRF" in ours[page] and ours[page] == jinjas[page], page
    assert "O&#39;Neil &amp; Zn" in ours["/stap/7"]
    assert "De Linde B.V. &lt;script&gt;&#34;&amp;&#39;&lt;/script&gt;" in ours["/stap/3"]
