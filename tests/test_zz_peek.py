from .conftest import *  # noqa
import re
def strip(html):
    html = re.sub(r'<nav class="progress".*?</nav>', '', html, flags=re.S)
    html = re.sub(r'\n\s*\n+', '\n', html)
    return html
def test_peek(with_main_contact):
    a = with_main_contact
    r = a.get("/stap/5?van=tekenbevoegde", htmx=True)
    print(r.status_code); print(strip(r.get_data(as_text=True)))
    r = a.get("/stap/6", htmx=True)
    print(r.status_code); print(strip(r.get_data(as_text=True)))
    r = a.client.get("/stap/6/code/01004567/1", headers={"HX-Request": "true", "HX-Target": "row-01004567"})
    print(r.status_code, dict(r.headers)); print(strip(r.get_data(as_text=True)))
