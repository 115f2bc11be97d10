"""JSON calls to a real server (live.serve), for the sandbox API's tests of calls at once."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit


def post_json(base_url: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """POST body as JSON; the status and the decoded answer."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(
            "POST", path, body=json.dumps(body or {}), headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()
