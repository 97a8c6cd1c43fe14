"""The site's charts: matplotlib SVG files (the larger view, with a legend) and the same chart inlined in the page,
where every method's artists carry `data-method` (the method selector shows and hides them) and marked points carry
`data-tip` and a `<title>` (their values on hover). Ids are prefixed per chart so that several inline SVGs on one
page never share one; everything is deterministic (same inputs, same bytes)."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
WIDE = (11.0, 4.8)
"""Inches of a site chart: drawn for the full column (1,216 px) so its text is read at about its own size."""
SHOWN = 8
"""Methods a chart shows at first; the selector shows the others."""
GEOMETRY = ("d", "x", "y", "x1", "x2", "y1", "y2", "points")
"""The attributes whose coordinates the inline chart rounds to a hundredth of a pixel (matplotlib writes six
decimals): a board page of 27 methods loses about an eighth of its weight, nothing a screen can show."""
_DECIMALS = re.compile(r"-?\d+\.\d{3,}")


@dataclass(frozen=True)
class Chart:
    """One chart of a board page: its SVG file (relative to the site), inline markup, text alternative, the methods
    it draws (best first: `shown` at first) and those it has nothing to draw of (`undrawn`, e.g. a search that spent
    no carbon has no point on a log carbon axis)."""

    src: str
    svg: str
    alt: str
    methods: list[str]
    shown: list[str] = field(default_factory=list)
    undrawn: list[str] = field(default_factory=list)


def save(
    ax: Axes,
    path: Path,
    site: Path,
    name: str,
    alt: str,
    methods: list[str],
    tips: dict[str, list[str]],
    order: list[str],
) -> Chart:
    """Write `ax`'s figure to `path` (SVG, legend outside the axes) and return it as an inline chart.

    `tips`: per method, the hover text of each marked point in drawing order; `order`: methods best first (the
    first `SHOWN` are shown at first)."""
    import matplotlib
    from matplotlib.figure import Figure

    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    if methods:
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"svg.hashsalt": "cenas-bench"}):
        figure.savefig(path, format="svg", metadata={"Date": None})
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()  # the page's method selector is the inline chart's legend
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg, drawn, undrawn = _inline(buffer.getvalue(), name, methods, tips)
    ranked = [m for m in order if m in drawn] + [m for m in drawn if m not in order]
    return Chart(path.relative_to(site).as_posix(), svg, alt, drawn, ranked[:SHOWN], undrawn)


def _inline(
    data: bytes, prefix: str, methods: list[str], tips: dict[str, list[str]]
) -> tuple[str, list[str], list[str]]:
    """The SVG as inline markup (ids prefixed, method groups marked, hover text on their marked points), the methods
    it draws (a group with something in it) and those plotted with nothing to draw, in `methods` order."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(data)  # noqa: S314 - matplotlib's own output of this build, not outside input
    for metadata in root.findall(f"{{{SVG_NS}}}metadata"):
        root.remove(metadata)  # the file keeps it; inline it would only add namespaces
    found: set[str] = set()
    plotted: set[str] = set()
    for group in root.iter(f"{{{SVG_NS}}}g"):
        match = re.fullmatch(r"m(\d+)-(\w+)", group.get("id", ""))
        if not match:
            continue
        method = methods[int(match[1])]
        plotted.add(method)
        if len(group):
            found.add(method)
        group.set("data-method", method)
        points = [use for use in group.iter(f"{{{SVG_NS}}}use")]
        for use, tip in zip(points, tips.get(method, []) if match[2] in ("points", "line") else [], strict=False):
            use.set("data-tip", tip)
            use.set("tabindex", "0")
            ET.SubElement(use, f"{{{SVG_NS}}}title").text = tip
    href = f"{{{XLINK_NS}}}href"
    for element in root.iter():
        for name in GEOMETRY:
            if name in element.attrib:
                element.set(name, _DECIMALS.sub(_hundredths, element.attrib[name]))
        if "id" in element.attrib:
            element.set("id", f"{prefix}-{element.get('id')}")
        target = element.get(href, "")
        if target.startswith("#"):
            element.set(href, f"#{prefix}-{target[1:]}")
        for key, value in list(element.attrib.items()):
            if "url(#" in value:
                element.set(key, value.replace("url(#", f"url(#{prefix}-"))
    root.set("width", "100%")
    root.attrib.pop("height", None)
    root.set("class", "chart")
    root.set("role", "img")
    root.set("data-chart", prefix)
    drawn = [m for m in dict.fromkeys(methods) if m in found]
    return ET.tostring(root, encoding="unicode"), drawn, [m for m in dict.fromkeys(methods) if m in plotted - found]


def _hundredths(match: re.Match[str]) -> str:
    """A coordinate rounded to two decimals, trailing zeros dropped ("12.50" -> "12.5", "-0.00" -> "0")."""
    text = f"{float(match[0]):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
