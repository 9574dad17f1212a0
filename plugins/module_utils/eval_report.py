# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The evaluation report: ``report.md`` (tables) and ``report.html`` (the same figures with
matplotlib charts embedded as SVG), both computed from predictions.jsonl alone
(report_from_predictions). Deterministic like the curation report: fixed bootstrap seed,
fixed SVG hash salt, no dates. Controller only (matplotlib).
"""

from __future__ import annotations

import html
from typing import Any, Mapping

from ansible_collections.autoport.zos.plugins.module_utils import jsonl
from ansible_collections.autoport.zos.plugins.module_utils.curate_report import MATPLOTLIB_IMPORT_ERROR, _img, _svg, _table_html, _table_md
from ansible_collections.autoport.zos.plugins.module_utils.eval_metrics import summarize

try:
    from matplotlib.figure import Figure
except ImportError:  # pragma: no cover - depends on the controller
    Figure = None

HEADLINE = (("exact", "exact"), ("exact_at_k", "exact@k"), ("applies", "applies"), ("edit_gain", "edit gain"), ("category_match", "category"))
CHART_METRICS = (
    ("exact", "Exact fix (whitespace-normalised)"),
    ("applies", "Edit applies (git apply --check)"),
    ("edit_gain", "Edit gain (similarity to the fix minus the unchanged code's)"),
)
COLOURS = ("#777777", "#d19a2a", "#3b6ea5", "#3b8a5a", "#8e5ea2", "#c0504d")


class PredictionsError(Exception):
    """predictions.jsonl cannot be read; the message names the line."""


def read_predictions(path: str) -> list[dict]:
    lines = []
    try:
        for line in jsonl.read_jsonl(path, jsonl.MAX_LINE_BYTES):
            if line.value is None:
                raise PredictionsError("%s line %d: %s" % (path, line.number, line.reason))
            if "system" not in line.value or "item" not in line.value:
                raise PredictionsError("%s line %d: not a prediction (needs system and item)" % (path, line.number))
            lines.append(line.value)
    except jsonl.JsonlError as exc:
        raise PredictionsError("%s: cannot be read (%s)" % (path, exc))
    if not lines:
        raise PredictionsError("%s: no predictions" % path)
    return lines


def _cell(figure: Mapping[str, Any], percent: bool = True) -> str:
    value = figure.get("mean")
    if value is None:
        return "n/a"
    if percent:
        return "%.1f%% [%.1f, %.1f]" % (100 * value, 100 * figure["low"], 100 * figure["high"])
    return "%+.3f [%+.3f, %+.3f]" % (value, figure["low"], figure["high"])


def headline_rows(summary: Mapping[str, Any]) -> list[tuple]:
    rows = []
    for system in summary["systems"]:
        figures = summary["overall"][system]
        speed = summary["speed"][system]
        rows.append(
            (system, figures["items"])
            + tuple(_cell(figures[metric], metric != "edit_gain") for metric, _title in HEADLINE)
            + (figures["unreadable"], figures["errors"], speed["seconds_per_item"], speed["tokens_per_second"] or "")
        )
    return rows


HEADLINE_HEADER = ("system", "items") + tuple(title for _metric, title in HEADLINE) + ("unreadable", "endpoint errors", "s/item", "tokens/s")


def group_rows(groups: Mapping[str, Mapping[str, Any]], systems: list[str], metric: str = "exact") -> list[tuple]:
    rows = []
    for name in sorted(groups):
        cells = groups[name]
        items = max((cells[s]["items"] for s in systems if s in cells), default=0)
        rows.append((name, items) + tuple(_cell(cells[s][metric], metric != "edit_gain") if s in cells else "" for s in systems))
    return rows


def difference_rows(summary: Mapping[str, Any]) -> list[tuple]:
    first, second = summary["differences"]["systems"] or ("tuned", "base")
    rows = []
    for row in summary["differences"]["items"]:
        rows.append(
            (row["item"], row["port"], row["file"], row["category"])
            + tuple("%s, %+.3f (%s)" % ("exact" if row[s]["exact"] else "not exact", row[s]["edit_gain"] or 0.0, row[s]["status"]) for s in (first, second))
        )
    return rows


def metric_chart_svg(summary: Mapping[str, Any], metric: str, title: str) -> str:
    """Bars per system with their 95% bootstrap interval."""
    systems = summary["systems"]
    figures = [summary["overall"][s][metric] for s in systems]
    values = [f["mean"] or 0.0 for f in figures]
    errors = [[max(0.0, (f["mean"] or 0.0) - (f["low"] or 0.0)) for f in figures], [max(0.0, (f["high"] or 0.0) - (f["mean"] or 0.0)) for f in figures]]
    figure = Figure(figsize=(7.5, 2.6), dpi=72)
    axes = figure.add_subplot(1, 1, 1)
    axes.bar(range(len(systems)), values, yerr=errors, capsize=4, color=[COLOURS[i % len(COLOURS)] for i in range(len(systems))])
    axes.set_xticks(range(len(systems)))
    axes.set_xticklabels(systems, fontsize=9)
    axes.set_title(title, fontsize=10)
    if metric != "edit_gain":
        axes.set_ylim(0, 1.05)
    else:
        axes.axhline(0, color="#222222", linewidth=0.8)
    axes.spines["top"].set_visible(False)
    axes.spines["right"].set_visible(False)
    return _svg(figure)


def render_markdown(summary: Mapping[str, Any]) -> str:
    systems = summary["systems"]
    parts = ["# Evaluation of the porting model", ""]
    parts.append(
        "%d items, %d systems, same items and decoding for every model. Cells: mean [95%% bootstrap interval]. "
        "Unreadable answers and endpoint errors count as not exact, not applying, edit gain 0." % (summary["items"], len(systems))
    )
    parts += ["", _table_md(HEADLINE_HEADER, headline_rows(summary)), ""]
    for key, title in (("by_category", "Exact by category"), ("by_port", "Exact by port")):
        parts += ["## %s" % title, "", _table_md(("name", "items") + tuple(systems), group_rows(summary[key], systems)), ""]
    parts += ["## Edit gain by port", "", _table_md(("port", "items") + tuple(systems), group_rows(summary["by_port"], systems, "edit_gain")), ""]
    first, second = summary["differences"]["systems"] or ("tuned", "base")
    parts += ["## Ten items where %s and %s differ most" % (first, second), ""]
    rows = difference_rows(summary)
    none = "None: the two systems score the same on every item (or one of them did not run)."
    parts.append(_table_md(("item", "port", "file", "category", first, second), rows) if rows else none)
    parts.append("")
    if summary["skipped"]:
        parts += ["## Items not evaluated", "", _table_md(("item", "reason"), summary["skipped"]), ""]
    return "\n".join(parts)


_STYLE = (
    "body{font-family:sans-serif;max-width:70em;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
    "img{max-width:100%}section{margin-bottom:2em}"
)


def render_html(summary: Mapping[str, Any]) -> str:
    if MATPLOTLIB_IMPORT_ERROR is not None:
        raise RuntimeError("matplotlib is needed for report.html: %s" % MATPLOTLIB_IMPORT_ERROR)
    systems = summary["systems"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Evaluation of the porting model</title><style>%s</style></head><body>' % _STYLE,
        "<h1>Evaluation of the porting model</h1>",
        "<p>%d items, %d systems. Cells: mean [95%% bootstrap interval].</p>" % (summary["items"], len(systems)),
        _table_html(HEADLINE_HEADER, headline_rows(summary)),
    ]
    for metric, title in CHART_METRICS:
        parts.append("<section><h2>%s</h2>%s</section>" % (html.escape(title), _img(metric_chart_svg(summary, metric, title), title)))
    for key, title in (("by_category", "Exact by category"), ("by_port", "Exact by port")):
        parts.append("<section><h2>%s</h2>%s</section>" % (title, _table_html(("name", "items") + tuple(systems), group_rows(summary[key], systems))))
    first, second = summary["differences"]["systems"] or ("tuned", "base")
    parts.append("<section><h2>Ten items where %s and %s differ most</h2>" % (html.escape(first), html.escape(second)))
    rows = difference_rows(summary)
    parts.append(_table_html(("item", "port", "file", "category", first, second), rows) if rows else "<p>None.</p>")
    parts.append("</section>")
    if summary["skipped"]:
        parts.append("<section><h2>Items not evaluated</h2>%s</section>" % _table_html(("item", "reason"), summary["skipped"]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def report_from_predictions(path: str) -> dict:
    """{'summary', 'markdown', 'html'}: every figure of the report from predictions.jsonl alone."""
    summary = summarize(read_predictions(path))
    return {"summary": summary, "markdown": render_markdown(summary), "html": render_html(summary)}
