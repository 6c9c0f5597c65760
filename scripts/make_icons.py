"""Render resources/icon.svg into the raster icons packaging needs (icon.png, icon.ico).

Run once after changing the SVG: `.venv/bin/python scripts/make_icons.py` (Qt offscreen is enough).
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(RESOURCES / "icon.svg"))
    if not renderer.isValid():
        print("icon.svg could not be read", file=sys.stderr)
        return 1
    if not render(renderer, 256).save(str(RESOURCES / "icon.png")):
        return 1
    (RESOURCES / "icon.ico").write_bytes(ico([png_bytes(render(renderer, size)) for size in ICO_SIZES]))
    print("wrote resources/icon.png and resources/icon.ico")
    return 0


ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def png_bytes(image: QImage) -> tuple[int, bytes]:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return image.width(), bytes(data.data())


def ico(images: list[tuple[int, bytes]]) -> bytes:
    """A Windows icon holding PNG images (supported since Windows Vista): small in the repository."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, blobs = b"", b""
    for size, blob in images:
        edge = 0 if size >= 256 else size  # 0 means 256 in an ICO directory entry
        entries += struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(blob), offset + len(blobs))
        blobs += blob
    return header + entries + blobs


if __name__ == "__main__":
    sys.exit(main())
