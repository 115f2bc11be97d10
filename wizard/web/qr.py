"""QR codes as inline SVG (no Pillow, no inline styles: the CSP forbids them)."""

from __future__ import annotations

import qrcode
from markupsafe import Markup, escape

BORDER = 2  # modules of quiet zone around the code


def qr_svg(data: str, label: str) -> Markup:
    """An accessible inline SVG QR code of data; label says what scanning it does.

    The path is drawn here from qrcode's module matrix: qrcode's own SVG images build an
    element tree with lxml, 4 MB more in every worker for one path. Each row's runs of dark
    modules are one rectangle each. Size comes from our stylesheet (a viewBox, no width)."""
    code = qrcode.QRCode(border=BORDER)
    code.add_data(data)
    matrix = code.get_matrix()  # quiet zone included
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            runs.append(f"M{start},{y}h{x - start}v1h-{x - start}z")
    size = len(matrix)
    return Markup(  # noqa: S704 - numbers we drew, and the label escaped
        f'<svg class="qr" role="img" aria-label="{escape(label)}" focusable="false" '
        f'viewBox="0 0 {size} {size}" version="1.1" xmlns="http://www.w3.org/2000/svg">'
        f'<path d="{"".join(runs)}" fill="#000000" stroke="none"/></svg>'
    )
