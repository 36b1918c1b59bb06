"""A circle's insights report as a file: Markdown or one self-contained HTML page a
facilitator can share, written without ever replacing a file unasked."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Final

from peernode.circles.report import (
    Report,
    glance,
    meeting_details,
    meeting_table,
    resolved_text,
    sections,
    themes_text,
)
from peernode.circles.text import OPEN_QUESTIONS
from peernode.errors import BadInput
from peernode.text import local_day, local_time

FORMATS: Final = ("md", "html")
"""What `render` writes: Markdown or one self-contained HTML page."""

MAX_NUMBERED: Final = 1000
"""How many '-2', '-3'… names `write_beside` tries before it gives up."""


def subtitle(report: Report) -> list[str]:
    """The circle, its topic, when the report was made and in which time zone (plain text)."""
    parts = [f"circle {report.circle}"]
    if report.topic:
        parts.append(report.topic)
    parts.append(f"generated {local_time(report.generated_at)}")
    if report.timezone:
        parts.append(f"times in {report.timezone}")
    return parts


# Markdown: user text is escaped so it cannot become markup, links or raw HTML.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def md_escape(text: str) -> str:
    text = html.escape(" ".join(text.split()), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_markdown(report: Report) -> str:
    lines = [f"# Circle report: {md_escape(report.title)}", ""]
    lines += [" · ".join(md_escape(part) for part in subtitle(report)), ""]
    lines += ["## At a glance", "", "| | |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in glance(report)]
    lines += ["", "## Meetings held", ""]
    head, rows = meeting_table(report)
    if rows:
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(md_escape(cell) for cell in row) + " |" for row in rows]
        details = [
            f"{number}. {md_escape(row[1])}: {md_escape(meeting_details(meeting))}"
            for number, (row, meeting) in enumerate(zip(rows, report.meetings, strict=True), 1)
            if meeting_details(meeting)
        ]
        lines += ["", *details] if details else []
    else:
        lines.append("No meeting held yet.")
    for title, said, themes in sections(report):
        lines += ["", f"## {title}", ""]
        if themes:
            lines += [f"Themes (words used more than once): {md_escape(themes_text(themes))}", ""]
        lines += [f"- {md_escape(s.text)} — {md_escape(s.who)}, {local_day(s.when)}" for s in said]
        if not said:
            lines.append("Nothing yet.")
    lines += ["", "## Resolved questions", ""]
    lines += [f"- {md_escape(resolved_text(item))}" for item in report.resolved] or ["None yet."]
    lines += ["", f"## {OPEN_QUESTIONS}", ""]
    lines += [f"- {md_escape(title)}" for title in report.open_questions] or ["None."]
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.45}
h1{margin-bottom:.2rem}.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right}.who{color:#666}
"""


def _html_list(items: list[str], empty: str) -> str:
    """Escaped items as a list, or `empty` as a paragraph."""
    if not items:
        return f"<p>{html.escape(empty)}</p>"
    return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>"


def render_html(report: Report) -> str:
    """One page with no external resources or scripts; every user string escaped."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Circle report: {e(report.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Circle report: {e(report.title)}</h1>",
        f'<p class="sub">{" · ".join(e(part) for part in subtitle(report))}</p>',
        "<h2>At a glance</h2><table>",
    ]
    parts += [
        f'<tr><th>{e(label)}</th><td class="num">{e(value)}</td></tr>'
        for label, value in glance(report)
    ]
    parts.append("</table><h2>Meetings held</h2>")
    head, rows = meeting_table(report)
    if rows:
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>" for row in rows]
        parts.append("</table>")
        details = [
            f"{row[1]}: {meeting_details(meeting)}"
            for row, meeting in zip(rows, report.meetings, strict=True)
            if meeting_details(meeting)
        ]
        parts.append(_html_list(details, "") if details else "")
    else:
        parts.append("<p>No meeting held yet.</p>")
    for title, said, themes in sections(report):
        parts.append(f"<h2>{e(title)}</h2>")
        if themes:
            parts.append(f"<p>Themes (words used more than once): {e(themes_text(themes))}</p>")
        if said:
            items = (
                f"<li>{e(s.text)} "
                f'<span class="who">— {e(s.who)}, {e(local_day(s.when))}</span></li>'
                for s in said
            )
            parts.append("<ul>" + "".join(items) + "</ul>")
        else:
            parts.append("<p>Nothing yet.</p>")
    parts.append("<h2>Resolved questions</h2>")
    parts.append(_html_list([resolved_text(item) for item in report.resolved], "None yet."))
    parts.append(f"<h2>{OPEN_QUESTIONS}</h2>")
    parts.append(_html_list(list(report.open_questions), "None."))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render(report: Report, fmt: str) -> str:
    """`report` in one of FORMATS."""
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    raise ValueError(f"unknown report format {fmt!r} (md or html)")


# -- writing: a report never replaces a file unless asked ---------------------------------


def write_new(path: Path, text: str, *, replace: bool = False) -> None:
    """Write `text` to `path`; an existing file is kept (FileExistsError) unless `replace`."""
    with path.open("w" if replace else "x", encoding="utf-8") as handle:
        handle.write(text)


def write_beside(folder: Path, name: str, text: str) -> Path:
    """Write `text` to `folder/name`, or `name-2`, `name-3`… when taken; the path written.

    Created exclusively, so a file made meanwhile by someone else is never replaced either."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for number in range(1, MAX_NUMBERED + 1):
        path = folder / (name if number == 1 else f"{stem}-{number}{suffix}")
        try:
            write_new(path, text)
        except FileExistsError:
            continue
        return path
    raise BadInput(f"{folder} holds {MAX_NUMBERED} reports named {name} already: choose a name.")
