"""Where the wizard may send a prescriber back to after enrollment (an EHR)."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_return(url: str | None, origins: tuple[str, ...]) -> str | None:
    """url when it is an http(s) URL on one of the allowed origins; None otherwise."""
    if not url or len(url) > 2000 or any(ch in url for ch in "\r\n\t\\"):
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or "@" in parts.netloc:
        return None
    allowed = {o.lower().rstrip("/") for o in origins}
    return url if origin_of(url) in allowed else None


def local_path(target: str | None) -> str | None:
    """target when it is a path on this site (for ?next=), else None.

    Refuses other hosts (//evil, https://…), backslashes that browsers read as slashes,
    and control characters that could split a header.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ch == "\\" or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target
