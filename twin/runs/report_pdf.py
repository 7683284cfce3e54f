"""PDF run reports: the HTML report's sections (``twin.runs.report.report_content``) laid out by
Qt on A4 or Letter pages; ``write_pdf`` lays out any report's ``ReportContent`` (a
calibration's) the same way.

Qt's rich text (QTextDocument) takes a subset of HTML and CSS: tables and basic styles, no
inline SVG. So QtSvg draws each chart's SVG into an image at ``CHART_DPI``, which the
document shows as ``<img>``. The pages are drawn one by one onto a QPdfWriter, each with a
footer that names the scenario and says "page N of M". Only this module imports Qt: an
HTML report never does.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
from collections.abc import Callable
from pathlib import Path

from twin import __version__
from twin.runs.report import ReportContent, report_content

PAGE_SIZES = ("A4", "Letter")
# left, top, right, bottom in mm; the footer takes the last FOOTER_MM of the printable area
MARGINS_MM = (18.0, 15.0, 18.0, 10.0)
FOOTER_MM = 8.0
RESOLUTION_DPI = 300  # the writer's unit; text and rules stay vectors at any resolution
CHART_DPI = 200
FONT_PT = 9.0
MM_PER_INCH = 25.4


def _pdf_css(html_pixel: float) -> str:
    """The report's style for QTextDocument, with lengths in points turned into its pixels
    (``html_pixel`` writer units each; font sizes it takes in points)."""

    def pt(points: float) -> str:
        return f"{points * RESOLUTION_DPI / 72 / html_pixel:.2f}px"

    return f"""
h1{{font-size:16pt;font-weight:bold;margin-top:0;margin-bottom:{pt(4)}}}
h2{{font-size:12pt;font-weight:bold;margin-top:{pt(12)};margin-bottom:{pt(3)}}}
h3{{font-size:10pt;font-weight:bold;margin-top:{pt(6)};margin-bottom:{pt(2)}}}
table{{border-collapse:collapse;margin-top:{pt(1)};margin-bottom:{pt(3)}}}
td,th{{padding-top:{pt(1)};padding-bottom:{pt(1)};padding-left:0;padding-right:{pt(10)};
text-align:left;border-bottom-style:solid;border-bottom-width:{pt(0.5)};
border-bottom-color:#dddddd}}
th{{font-weight:bold}}
td.n{{text-align:right}}
.worse{{color:#b91c1c}}.better{{color:#15803d}}.note{{color:#555555;font-size:8pt}}
td.late{{color:#888888;font-style:italic}}
.missing{{color:#b91c1c}}
table.dense td,table.dense th{{font-size:6.5pt;padding-right:{pt(5)}}}
"""


def write_pdf_report(
    run_output: str | Path,
    out: Path,
    *,
    compare_with: str | Path | None = None,
    journal: Path | None = None,
    page_size: str = "A4",
) -> int:
    """Write the report as a PDF at ``out``; returns its number of pages. The file is written
    whole once laid out, so a failed report leaves no partial PDF behind."""
    return write_pdf(
        lambda embed_chart: report_content(
            run_output, compare_with=compare_with, journal=journal, embed_chart=embed_chart
        ),
        out,
        page_size=page_size,
    )


def write_pdf(
    content_of: Callable[[Callable[[str], str]], ReportContent],
    out: Path,
    *,
    page_size: str = "A4",
) -> int:
    """Lay out the report ``content_of(embed_chart)`` gives (any report's sections, its
    charts' SVG passed through ``embed_chart``) on pages and write it at ``out``."""
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page size {page_size!r} is not one of {', '.join(PAGE_SIZES)}")
    _application()
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF, QUrl
    from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument
    from PySide6.QtSvg import QSvgRenderer

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(RESOLUTION_DPI)
    writer.setPageSize(QPageSize(getattr(QPageSize.PageSizeId, page_size)))
    writer.setPageMargins(QMarginsF(*MARGINS_MM), QPageLayout.Unit.Millimeter)
    writer.setCreator(f"twin {__version__}")
    printable = writer.pageLayout().paintRectPixels(RESOLUTION_DPI)
    footer_height = FOOTER_MM / MM_PER_INCH * RESOLUTION_DPI
    body = QSizeF(printable.width(), printable.height() - footer_height)

    document = QTextDocument()
    document.documentLayout().setPaintDevice(writer)
    document.setDocumentMargin(0)
    document.setDefaultFont(_font(FONT_PT))
    html_pixel = _device_units_per_html_pixel(writer)
    document.setDefaultStyleSheet(_pdf_css(html_pixel))

    def embed_chart(svg: str) -> str:
        renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
        chart = renderer.defaultSize()
        width = body.width()  # each chart spans the text width, its aspect kept
        height = width * chart.height() / chart.width()
        image = QImage(
            round(width / RESOLUTION_DPI * CHART_DPI),
            round(height / RESOLUTION_DPI * CHART_DPI),
            QImage.Format.Format_RGB32,
        )
        image.fill(0xFFFFFF)
        _paint(image, renderer.render)
        name = f"chart-{next(chart_numbers)}.png"
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
        return (
            f"<p><img src='{name}' width='{width / html_pixel:.2f}' "
            f"height='{height / html_pixel:.2f}'></p>"
        )

    chart_numbers = itertools.count(1)
    content = content_of(embed_chart)
    writer.setTitle(f"{content.title}: {content.scenario}")
    document.setHtml("".join(content.sections))
    document.setPageSize(body)
    pages = _draw_pages(writer, document, content, body, footer_height)
    buffer.close()
    out.write_bytes(buffer.data().data())
    return pages


def _draw_pages(writer, document, content: ReportContent, body, footer_height: float) -> int:
    """Draw the laid-out document page by page, each with its footer; returns the pages."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QPainter, QPen

    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(0, "Qt could not start the PDF")
    # charts as lossless images: JPEG, Qt's default in a PDF, smears their thin lines
    painter.setRenderHint(QPainter.RenderHint.LosslessImageRendering)
    footer_font = _font(FONT_PT - 1.5)
    pages = document.pageCount()
    for index in range(pages):
        if index:
            writer.newPage()
        painter.save()
        painter.translate(0, -index * body.height())
        document.drawContents(
            painter, QRectF(0, index * body.height(), body.width(), body.height())
        )
        painter.restore()
        footer = QRectF(0, body.height(), body.width(), footer_height)
        painter.setPen(QPen(QColor("#999999"), RESOLUTION_DPI / 144))  # half a point
        painter.drawLine(footer.topLeft(), footer.topRight())
        painter.setPen(QColor("#555555"))
        painter.setFont(footer_font)
        align = Qt.AlignmentFlag.AlignVCenter
        painter.drawText(
            footer,
            align | Qt.AlignmentFlag.AlignLeft,
            f"{content.title}: {content.scenario} ({content.run_name})",
        )
        painter.drawText(
            footer, align | Qt.AlignmentFlag.AlignRight, f"page {index + 1} of {pages}"
        )
    painter.end()
    return pages


def _paint(device, draw) -> None:
    from PySide6.QtGui import QPainter

    painter = QPainter(device)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    draw(painter)
    painter.end()


def _font(point_size: float):
    from PySide6.QtGui import QFont

    font = QFont()
    font.setPointSizeF(point_size)
    # without ligatures the PDF's text reads back, searches and copies as written ("fl",
    # not one glyph)
    font.setFeature(QFont.Tag("liga"), 0)
    return font


def _device_units_per_html_pixel(writer) -> float:
    """How many of the writer's units an image takes per pixel of its HTML width. Qt scales
    by the writer's resolution over the screen's logical DPI (96 on most desktops, 72 on
    macOS), so it is measured on a one-image document rather than assumed."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QImage, QTextDocument

    probe = QTextDocument()
    probe.documentLayout().setPaintDevice(writer)
    probe.setDocumentMargin(0)
    probe.addResource(
        QTextDocument.ResourceType.ImageResource,
        QUrl("probe.png"),
        QImage(1, 1, QImage.Format.Format_RGB32),
    )
    probe.setHtml("<img src='probe.png' width='100' height='1'>")
    return probe.idealWidth() / 100


@functools.cache
def _application():
    """The QGuiApplication that Qt's text layout and fonts need; the cache keeps it alive."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is not None:
        return app
    argv = sys.argv[:1]
    if offscreen_platform(os.environ, sys.platform):
        argv += ["-platform", "offscreen"]
    return QGuiApplication(argv)


def offscreen_platform(environ, platform: str) -> bool:
    """Whether Qt should run on its offscreen platform for a PDF. The PDF never reaches a
    screen, so on Linux and the BSDs it does, display or not (a stale DISPLAY would abort Qt
    at start-up; the fonts come from fontconfig either way), unless QT_QPA_PLATFORM names a
    platform. Windows and macOS always have theirs."""
    return platform not in ("win32", "darwin") and not environ.get("QT_QPA_PLATFORM")
