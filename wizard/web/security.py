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


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static":
        # Pages, partials and downloads (the funnel CSV) can carry credential IDs or figures
        # about prescribers: keep them out of shared and back-forward caches.
        headers.setdefault("Cache-Control", "no-store")
    if current_app.config.get("WIZARD_ENV") == "production":
        # Browsers that have seen us over HTTPS never try plain HTTP again (for a year).
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
