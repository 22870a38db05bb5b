"""Draws a `graph_layout.Scene`: SVG written by hand, PNG with Pillow, the rest matplotlib.

SVG needs nothing beyond the standard library. PNG uses Pillow with DejaVu Sans Mono
(matplotlib ships it; Debian has it too) because Pillow draws a 100-layer diagram in a
tenth of the time matplotlib's Agg takes; without Pillow or the font, and for PDF, PS
and JPEG, matplotlib's backends draw it (no pyplot, so no global figure state). All use
the monospace face the layout measured text for.
"""

import importlib.util
import io
import math
import os
from xml.sax.saxutils import escape

from .graph_layout import FONT_SIZE, LINE_H

_FONTS = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
_ARROW_LEN, _ARROW_HALF = 8.0, 3.5
_MAX_PIXELS = 32000  # Agg cannot draw more than 2**16 pixels along a side


def render(scene, format, dpi=96.0):
    """The scene as `format` bytes ('svg' by hand, anything matplotlib saves otherwise).

    Raises:
        ImportError: for a non-SVG format when matplotlib is not installed.
    """
    fmt = format.lower()
    if fmt == "svg":
        return to_svg(scene).encode("utf-8")
    if fmt == "png":
        image = _draw_pillow(scene, dpi)
        if image is not None:
            return image
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            f"Writing a model plot as {format!r} without graphviz needs matplotlib: "
            "pip install 'layerkit[plot]' (or install graphviz, or save as .svg)"
        ) from error
    dpi = min(float(dpi), _MAX_PIXELS * 72.0 / max(scene.width, scene.height))
    fig = Figure(figsize=(scene.width / 72.0, scene.height / 72.0), dpi=dpi)
    _draw_matplotlib(fig, scene)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="jpeg" if fmt == "jpg" else fmt, dpi=dpi, facecolor="white")
    return buffer.getvalue()


def arrow_head(points):
    """The arrow's triangle at the end of a polyline (tip at the last point)."""
    (x1, y1), (x2, y2) = points[-2], points[-1]
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    bx, by = x2 - ux * _ARROW_LEN, y2 - uy * _ARROW_LEN
    return [(x2, y2), (bx - uy * _ARROW_HALF, by + ux * _ARROW_HALF),
            (bx + uy * _ARROW_HALF, by - ux * _ARROW_HALF)]


def _shaft(points):
    """The polyline stopped at the arrow head's base, so the line does not poke through."""
    head = arrow_head(points)
    base = ((head[1][0] + head[2][0]) / 2, (head[1][1] + head[2][1]) / 2)
    return points[:-1] + [base]


def _text_baselines(y, h, lines):
    """Baseline y of each line, the block centred vertically in the cell."""
    top = y + (h - len(lines) * LINE_H) / 2
    return [top + (i + 0.5) * LINE_H + 0.35 * FONT_SIZE for i in range(len(lines))]


# --------------------------------------------------------------------------- SVG
def to_svg(scene):
    """The scene as an SVG document (a `<g class="node">` with a `<title>` per node)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width:.0f}pt" '
        f'height="{scene.height:.0f}pt" viewBox="0 0 {scene.width:.2f} {scene.height:.2f}">',
        f'<g id="graph0" class="graph" font-family="{_FONTS}" font-size="{FONT_SIZE:g}">',
        f'<rect x="0" y="0" width="{scene.width:.2f}" height="{scene.height:.2f}" '
        'fill="white" stroke="none"/>',
    ]
    for x, y, w, h, label in scene.clusters:
        out.append(f'<g class="cluster"><title>{escape(label)}</title>'
                   f'<rect x="{x:.2f}" y="{y:.2f}" width="{w:.2f}" height="{h:.2f}" '
                   'fill="none" stroke="black" stroke-dasharray="5,2"/>'
                   f'<text x="{x + 7:.2f}" y="{y + 4 + 0.5 * LINE_H + 0.35 * FONT_SIZE:.2f}">'
                   f'{escape(label)}</text></g>')
    for name, cells in scene.boxes:
        out.append(f'<g class="node"><title>{escape(name)}</title>')
        for x, y, w, h, lines in cells:
            out.append(f'<rect x="{x:.2f}" y="{y:.2f}" width="{w:.2f}" height="{h:.2f}" '
                       'fill="white" stroke="black"/>')
            for line, base in zip(lines, _text_baselines(y, h, lines)):
                out.append(f'<text x="{x + w / 2:.2f}" y="{base:.2f}" '
                           f'text-anchor="middle">{escape(line)}</text>')
        out.append("</g>")
    for points in scene.edges:
        shaft = " ".join(f"{x:.2f},{y:.2f}" for x, y in _shaft(points))
        head = " ".join(f"{x:.2f},{y:.2f}" for x, y in arrow_head(points))
        out.append(f'<g class="edge"><polyline points="{shaft}" fill="none" stroke="black"/>'
                   f'<polygon points="{head}" fill="black" stroke="black"/></g>')
    out += ["</g>", "</svg>", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- Pillow
def _mono_font_file():
    spec = importlib.util.find_spec("matplotlib")
    candidates = [os.path.join(p, "mpl-data", "fonts", "ttf", "DejaVuSansMono.ttf")
                  for p in (spec.submodule_search_locations or [])] if spec else []
    candidates.append("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
    return next((path for path in candidates if os.path.exists(path)), None)


def _draw_pillow(scene, dpi):
    """PNG bytes drawn with Pillow, or None when Pillow or the font is missing."""
    font_file = _mono_font_file()
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        return None
    if font_file is None:
        return None
    k = min(float(dpi), _MAX_PIXELS * 72.0 / max(scene.width, scene.height)) / 72.0
    image = Image.new("RGB", (math.ceil(scene.width * k), math.ceil(scene.height * k)),
                      "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(font_file, max(1, round(FONT_SIZE * k)))
    line = max(1, round(k))

    def px(points):
        return [(x * k, y * k) for x, y in points]

    for x, y, w, h, label in scene.clusters:
        for a, b in (((x, y), (x + w, y)), ((x + w, y), (x + w, y + h)),
                     ((x + w, y + h), (x, y + h)), ((x, y + h), (x, y))):
            _dashed(draw, px([a, b]), 5 * k, 2 * k, line)
        draw.text(((x + 7) * k, (y + 4 + 0.5 * LINE_H) * k), label, font=font,
                  fill="black", anchor="lm")
    for _, cells in scene.boxes:
        for x, y, w, h, lines in cells:
            draw.rectangle([round(x * k), round(y * k), round((x + w) * k),
                            round((y + h) * k)], outline="black", width=line)
            for text, base in zip(lines, _text_baselines(y, h, lines)):
                draw.text(((x + w / 2) * k, base * k), text, font=font, fill="black",
                          anchor="ms")
    for points in scene.edges:
        draw.line(px(_shaft(points)), fill="black", width=line, joint="curve")
        draw.polygon(px(arrow_head(points)), fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(k * 72, k * 72))
    return buffer.getvalue()


def _dashed(draw, segment, on, off, width):
    (x1, y1), (x2, y2) = segment
    length = math.hypot(x2 - x1, y2 - y1)
    at = 0.0
    while at < length:
        end = min(at + on, length)
        draw.line([(x1 + (x2 - x1) * at / length, y1 + (y2 - y1) * at / length),
                   (x1 + (x2 - x1) * end / length, y1 + (y2 - y1) * end / length)],
                  fill="black", width=width)
        at = end + off


# --------------------------------------------------------------------------- matplotlib
def _draw_matplotlib(fig, scene):
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.patches import Polygon, Rectangle

    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, scene.width)
    ax.set_ylim(scene.height, 0)  # page coordinates: y grows downwards
    ax.set_axis_off()
    ax.add_collection(PatchCollection(
        [Rectangle((x, y), w, h) for x, y, w, h, _ in scene.clusters],
        facecolor="none", edgecolor="black", linestyle=(0, (5, 2)), linewidth=1.0))
    for x, y, _, _, label in scene.clusters:
        ax.text(x + 7, y + 4 + 0.5 * LINE_H, label, family="DejaVu Sans Mono",
                fontsize=FONT_SIZE, va="center", ha="left")
    cells = [cell for _, box in scene.boxes for cell in box]
    ax.add_collection(PatchCollection([Rectangle((x, y), w, h) for x, y, w, h, _ in cells],
                                      facecolor="white", edgecolor="black", linewidth=1.0))
    for x, y, w, h, lines in cells:
        for line, base in zip(lines, _text_baselines(y, h, lines)):
            ax.text(x + w / 2, base, line, family="DejaVu Sans Mono", fontsize=FONT_SIZE,
                    ha="center", va="baseline")
    ax.add_collection(LineCollection([_shaft(p) for p in scene.edges], colors="black",
                                     linewidths=1.0))
    ax.add_collection(PatchCollection([Polygon(arrow_head(p)) for p in scene.edges],
                                      facecolor="black", edgecolor="black", linewidth=0.5))
