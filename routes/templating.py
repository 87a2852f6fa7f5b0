"""The app's Jinja environment: its templates' escaping, and the macros of a template as a global.

Every ``{{ value }}`` of an autoescaping template is compiled to ``escape(value)``, and MarkupSafe's
``escape`` wraps what it escaped in a new ``Markup``: a Python-level constructor around the C
function that does the escaping, some 0.5 µs, for a result that Jinja only joins into the page.
Step 6 at 1,000 codes escapes some 1,500 values a page; those wrappers were a third of its time.
"""

from jinja2 import Template
from markupsafe import _escape_inner  # MarkupSafe's own escaping (C); pinned in requirements.txt


def escape_to_str(value) -> str:
    """What ``markupsafe.escape`` gives, as the text Jinja joins into the page: the same
    characters escaped, an object's ``__html__`` trusted, without a ``Markup`` around it."""
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape_inner(str(value))


class EscapingTemplate(Template):
    """A template whose output escapes with ``escape_to_str``.

    Jinja runs a compiled template's code in a namespace of its own, where ``escape`` is the name
    its output calls (``from jinja2.runtime import escape``); the template's root, blocks and
    macros all read it from there. Only output calls it: a ``Markup`` is still made where Jinja
    makes one (a macro's result, ``{% set %}`` blocks, ``~`` joins), so a value escaped once is
    not escaped again.
    """

    @classmethod
    def _from_namespace(cls, environment, namespace, globals):
        namespace["escape"] = escape_to_str
        return super()._from_namespace(environment, namespace, globals)


class TemplateMacros:
    """The macros of one template as a global of the environment.

    An ``{% from ... import %}`` runs again on every render, in every block a fragment
    renders (Jinja compares the template's globals to the caller's each time): a few
    hundredths of a millisecond a page. The module is made once; with templates
    reloading (debug), again after the file changed.
    """

    def __init__(self, environment, name: str):
        self.environment = environment
        self.name = name
        self.template = None

    def __getattr__(self, macro: str):
        if self.template is None or (self.environment.auto_reload and not self.template.is_up_to_date):
            self.template = self.environment.get_template(self.name)
        return getattr(self.template.module, macro)
