"""QR codes drawn from qrcode's module matrix (issue 13: qrcode's SVG images import lxml)."""

from __future__ import annotations

import re

import pytest
import qrcode

from wizard.web.qr import BORDER, qr_svg

RUN = re.compile(r"M(\d+),(\d+)h(\d+)v1h-(\d+)z")


def dark_modules(svg: str) -> set[tuple[int, int]]:
    path = re.search(r'<path d="([^"]+)"', svg).group(1)
    runs = RUN.findall(path)
    assert "".join(RUN.sub("", path)) == "", "the path holds only row runs"
    cells = set()
    for x, y, width, back in runs:
        assert width == back
        cells |= {(int(x) + i, int(y)) for i in range(int(width))}
    return cells


@pytest.mark.parametrize(
    "data",
    [
        "https://apps.apple.com/us/app/vip-access-for-iphone/id307658513",
        "otpauth://totp/EPCS%20help%20desk:Pat.Helpdesk?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        "&issuer=EPCS%20help%20desk",
    ],
)
def test_should_draw_every_dark_module_of_the_code_and_nothing_else(data):
    expected = qrcode.QRCode(border=BORDER)
    expected.add_data(data)
    matrix = expected.get_matrix()

    svg = qr_svg(data, "QR code")

    assert dark_modules(svg) == {
        (x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark
    }
    assert f'viewBox="0 0 {len(matrix)} {len(matrix)}"' in svg


def test_should_escape_the_label_and_size_the_code_from_the_stylesheet():
    svg = qr_svg("https://example.org", 'Scan "this" <now>')

    assert 'aria-label="Scan &#34;this&#34; &lt;now&gt;"' in svg
    assert 'role="img"' in svg and 'class="qr"' in svg
    assert "width=" not in svg and "style=" not in svg
