# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The curation report: ``report.md`` (tables) and ``report.html`` (the same numbers with
charts drawn by matplotlib and embedded as SVG).

Both are deterministic: no timestamps, sorted tables, and SVG rendered with a fixed
``svg.hashsalt`` and no ``Date`` metadata, so re-rendering the same summary gives the
same bytes. Controller only: matplotlib is imported under a guard and
``MATPLOTLIB_IMPORT_ERROR`` keeps the reason when it is missing.
"""

from __future__ import annotations

import base64
import html
import io

try:
    import matplotlib
    from matplotlib.figure import Figure

    MATPLOTLIB_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the controller
    matplotlib = None
    Figure = None
    MATPLOTLIB_IMPORT_ERROR = exc

SVG_HASH_SALT = "autoport.zos"
BAR_COLOUR = "#3b6ea5"
ACCOUNTING_COLOURS = {"kept": "#3b8a5a", "rejected": "#c0504d", "merged duplicates": "#d19a2a"}

# (summary key, title, axis label) of the distribution charts, in report order.
CHARTS = (
    ("by_category", "Records per category", "records"),
    ("by_port", "Records per port", "records"),
    ("by_phase", "Records per phase", "records"),
    ("by_provenance", "Static and build records", "records"),
    ("rejected_by_kind", "Rejected records by reason", "records"),
)


def equation_text(summary: dict) -> str:
    """'kept 10 + rejected 2 + merged duplicates 3 = records read 15'."""
    return "kept %d + rejected %d + merged duplicates %d = records read %d" % (summary["kept"], summary["rejected"], summary["merged"], summary["read"])


def _ordered(counts: dict) -> list:
    # Largest first, then by name, so equal inputs give equal charts.
    return sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))


def _svg(figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT, "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buffer.getvalue()


def bar_chart_svg(title: str, counts: dict, label: str = "records") -> str:
    """A horizontal bar chart of counts as an SVG document."""
    items = _ordered(counts)
    height = max(1.6, 0.32 * len(items) + 1.0)
    figure = Figure(figsize=(7.5, height), dpi=72)
    axes = figure.add_subplot(1, 1, 1)
    names = [str(item[0]) for item in items][::-1]
    values = [item[1] for item in items][::-1]
    bars = axes.barh(range(len(values)), values, color=BAR_COLOUR)
    axes.set_yticks(range(len(values)))
    axes.set_yticklabels(names, fontsize=9)
    axes.set_xlabel(label)
    axes.set_title(title)
    axes.bar_label(bars, labels=[str(v) for v in values], padding=3, fontsize=8)
    axes.spines["top"].set_visible(False)
    axes.spines["right"].set_visible(False)
    if values:
        axes.set_xlim(0, max(values) * 1.15 + 1)
    return _svg(figure)


def accounting_chart_svg(summary: dict) -> str:
    """One stacked bar: kept + rejected + merged duplicates, next to a bar of records read."""
    figure = Figure(figsize=(7.5, 1.9), dpi=72)
    axes = figure.add_subplot(1, 1, 1)
    left = 0
    for name, value in (("kept", summary["kept"]), ("rejected", summary["rejected"]), ("merged duplicates", summary["merged"])):
        axes.barh([1], [value], left=left, color=ACCOUNTING_COLOURS[name], label="%s %d" % (name, value))
        left += value
    axes.barh([0], [summary["read"]], color="#777777", label="records read %d" % summary["read"])
    axes.set_yticks([0, 1])
    axes.set_yticklabels(["read", "outcome"], fontsize=9)
    axes.set_title("Where every record read went")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, fontsize=8, frameon=False)
    axes.spines["top"].set_visible(False)
    axes.spines["right"].set_visible(False)
    return _svg(figure)


def _table_md(header: tuple, rows: list) -> str:
    lines = ["| %s |" % " | ".join(header), "|%s|" % "|".join("---" for cell in header)]
    for row in rows:
        lines.append("| %s |" % " | ".join(str(cell).replace("|", "\\|") for cell in row))
    return "\n".join(lines)


def render_markdown(summary: dict) -> str:
    """report.md: the accounting equation and one table per chart."""
    parts = ["# Curated fix records", ""]
    parts.append(
        "**%s** (%s)."
        % (equation_text(summary), "adds up" if summary["kept"] + summary["rejected"] + summary["merged"] == summary["read"] else "DOES NOT ADD UP")
    )
    parts.append("")
    merged_by = summary.get("merged_by", {})
    parts.append(
        "Merged duplicates: %d with the same id, %d static records replaced by a build record of the same hunk, "
        "%d near-duplicates (same normalised code in other ports or patch versions)."
        % (merged_by.get("exact", 0), merged_by.get("same_hunk", 0), merged_by.get("near", 0))
    )
    parts.append("")
    parts.append(
        "Split by port (seed `%s`, test ratio %s): %d train records from %d ports, %d test records from %d ports; no port is in both."
        % (
            summary["seed"],
            summary["test_ratio"],
            summary["train"]["records"],
            len(summary["train"]["ports"]),
            summary["test"]["records"],
            len(summary["test"]["ports"]),
        )
    )
    parts.append("")
    parts.append("Test ports: %s" % (", ".join("`%s`" % port for port in summary["test"]["ports"]) or "none"))
    parts.append("")
    for key, title, _label in CHARTS:
        parts.append("## %s" % title)
        parts.append("")
        items = _ordered(summary.get(key, {}))
        if items:
            parts.append(_table_md(("name", "records"), items + [("**total**", sum(item[1] for item in items))]))
        else:
            parts.append("None.")
        parts.append("")
    parts.append("## Secrets and personal data removed")
    parts.append("")
    parts.append(_table_md(("kind", "replacements"), sorted(summary.get("scrubbed", {}).items())))
    parts.append("")
    parts.append("## Inputs")
    parts.append("")
    inputs = sorted(summary.get("inputs", {}).items())
    parts.append(_table_md(("file", "records read"), inputs) if inputs else "None.")
    parts.append("")
    return "\n".join(parts)


def _img(svg: str, alt: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return '<img alt="%s" src="data:image/svg+xml;base64,%s">' % (html.escape(alt), data)


def _table_html(header: tuple, rows: list) -> str:
    head = "".join("<th>%s</th>" % html.escape(str(cell)) for cell in header)
    body = "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % html.escape(str(cell)) for cell in row) for row in rows)
    return "<table><thead><tr>%s</tr></thead><tbody>%s</tbody></table>" % (head, body)


_STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
    "td:last-child{text-align:right}.equation{font-size:1.2em;background:#eef4ea;padding:.5em;border-radius:4px}"
    "img{max-width:100%}section{margin-bottom:2em}"
)


def render_html(summary: dict) -> str:
    """report.html: the same numbers as report.md with embedded SVG charts."""
    if MATPLOTLIB_IMPORT_ERROR is not None:
        raise RuntimeError("matplotlib is needed for report.html: %s" % MATPLOTLIB_IMPORT_ERROR)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Curated fix records</title><style>%s</style></head><body>' % _STYLE,
        "<h1>Curated fix records</h1>",
        '<p class="equation">%s</p>' % html.escape(equation_text(summary)),
        _img(accounting_chart_svg(summary), "kept, rejected and merged records against records read"),
    ]
    merged_by = summary.get("merged_by", {})
    parts.append(
        _table_html(
            ("merged duplicates", "records"),
            [
                ("same id", merged_by.get("exact", 0)),
                ("static replaced by build (same hunk)", merged_by.get("same_hunk", 0)),
                ("near-duplicates (normalised code)", merged_by.get("near", 0)),
            ],
        )
    )
    parts.append(
        "<p>Split by port (seed <code>%s</code>, test ratio %s): %d train records from %d ports, %d test records from %d ports. Test ports: %s.</p>"
        % (
            html.escape(str(summary["seed"])),
            html.escape(str(summary["test_ratio"])),
            summary["train"]["records"],
            len(summary["train"]["ports"]),
            summary["test"]["records"],
            len(summary["test"]["ports"]),
            html.escape(", ".join(summary["test"]["ports"]) or "none"),
        )
    )
    for key, title, label in CHARTS:
        counts = summary.get(key, {})
        parts.append("<section><h2>%s</h2>" % html.escape(title))
        if counts:
            parts.append(_img(bar_chart_svg(title, counts, label), title))
            items = _ordered(counts)
            parts.append(_table_html(("name", "records"), items + [("total", sum(item[1] for item in items))]))
        else:
            parts.append("<p>None.</p>")
        parts.append("</section>")
    parts.append("<section><h2>Secrets and personal data removed</h2>")
    parts.append(_table_html(("kind", "replacements"), sorted(summary.get("scrubbed", {}).items())))
    parts.append("</section><section><h2>Inputs</h2>")
    parts.append(_table_html(("file", "records read"), sorted(summary.get("inputs", {}).items())))
    parts.append("</section></body></html>")
    return "\n".join(parts) + "\n"
