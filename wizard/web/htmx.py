"""One template serves a page and its htmx partial. htmx-flask reads the request's HX headers
(request.htmx) and writes the response's (make_response); docs/DEVELOPMENT.md says which."""

from __future__ import annotations

from typing import Literal

from flask import Flask, Response, render_template, request
from htmx_flask import make_response as htmx_response


def wants_partial() -> bool:
    """An htmx swap, but not htmx restoring history (which needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_page(
    template: str,
    status: int = 200,
    push_url: str | Literal[False] | None = None,
    reswap: str = "innerHTML",
    **context,
) -> Response:
    """Render the full page, or only its partial for htmx. push_url: the URL to show for it,
    or False to leave the address bar alone.

    A 5xx partial (a vendor outage on this page) goes where a 200 would, swapped as reswap
    says, instead of replacing the page as htmx is configured to do with server errors."""
    partial = wants_partial()
    body = render_template(template, partial=partial, **context)
    if not partial:
        return htmx_response(body, status)
    target = request.htmx.target if status >= 500 else None
    return htmx_response(
        body,
        status,
        push_url=push_url,
        retarget=f"#{target}" if target else None,
        reswap=reswap if target else None,
    )


def redirect_for_htmx(response: Response) -> Response:
    """An htmx request that ends in a redirect loads the target as a whole page (HX-Redirect:
    htmx would otherwise follow it and swap the whole page into the target)."""
    if request.htmx and response.status_code in (301, 302, 303):
        htmx_response(response, redirect=response.location)
        response.status_code = 200
        del response.headers["Location"]
    return response


def _vary(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_vary)
