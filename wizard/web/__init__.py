"""Blueprints, security headers, error pages and the htmx helpers."""

from flask import Flask


def init_app(app: Flask) -> None:
    pass
