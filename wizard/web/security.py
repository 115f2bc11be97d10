"""Headers every response carries, and the client address for audit events."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


EVERY_RESPONSE = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
# Pages, partials and downloads (the funnel CSV) can carry credential IDs or figures about
# prescribers: keep them out of shared and back-forward caches.
NOT_STATIC = (("Cache-Control", "no-store"),)
# Browsers that have seen us over HTTPS never try plain HTTP again (for a year).
PRODUCTION = (("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),)


def add_security_headers(response: Response) -> Response:
    """Each header unless the view set its own (one look at the headers, not one per name)."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - Headers, not a dict
    wanted = EVERY_RESPONSE
    if request.endpoint != "static":
        wanted += NOT_STATIC
    if current_app.config.get("WIZARD_ENV") == "production":
        wanted += PRODUCTION
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
