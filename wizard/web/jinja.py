"""The Jinja environment the pages are rendered in."""

from __future__ import annotations

from flask.templating import Environment


class PageEnvironment(Environment):
    """Flask's environment, with each template's globals in a plain dict.

    Jinja keeps them in a ChainMap over the environment's, so that a global added after a
    template was loaded still shows in it. Every `{% from "macros.html" import ... %}`
    compares the importing page's globals with the macros' (a set difference), and over a
    ChainMap that runs in Python key by key, three times per page. Our globals are all set
    while the app is built (create_app), before any template is loaded."""

    def make_globals(self, d):
        return {**self.globals, **(d or {})}
