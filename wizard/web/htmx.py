"""One template serves a page and its htmx partial."""

from __future__ import annotations

from flask import Flask, Response, make_response, render_template, request


def wants_partial() -> bool:
    """An htmx swap, but not htmx restoring history (which needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_page(
    template: str,
    status: int = 200,
    push_url: str | None = None,
    reswap: str = "innerHTML",
    **context,
) -> Response:
    """Render the full page, or only its partial for htmx; push_url names the URL to show.

    A 5xx partial (a vendor outage on this page) goes where a 200 would, swapped as reswap
    says, instead of replacing the page as htmx is configured to do with server errors."""
    partial = wants_partial()
    response = make_response(render_template(template, partial=partial, **context), status)
    if partial and push_url:
        response.headers["HX-Push-Url"] = push_url
    target = request.headers.get("HX-Target")
    if partial and status >= 500 and target:
        response.headers["HX-Retarget"] = f"#{target}"
        response.headers["HX-Reswap"] = reswap
    return response


def _vary(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_vary)
