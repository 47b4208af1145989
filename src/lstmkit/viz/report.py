"""One self-contained HTML report: figures embedded as PNG data, tables inline, no external assets."""

from __future__ import annotations

import base64
import html
import io

from matplotlib.figure import Figure


def figure_png(figure: Figure, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _table(rows: list[dict]) -> str:
    if not rows:
        return ""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)

    def cell(value) -> str:
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        return f"<td>{html.escape(text)}</td>"

    body = "".join("<tr>" + "".join(cell(row.get(c, "")) for c in columns) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(title: str, sections: list[tuple]) -> str:
    """A page with one section per (heading, table rows or None, PNG images), optionally followed by an HTML
    fragment lstmkit.viz built (escaped text in styled spans, such as ``text_activation_html``)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "th{background:#f3f3f3}img{max-width:100%;display:block;margin:1em 0}</style>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for heading, rows, images, *fragment in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if rows:
            parts.append(_table(rows))
        for image in images:
            encoded = base64.b64encode(image).decode()
            parts.append(f'<img alt="{html.escape(heading)}" src="data:image/png;base64,{encoded}">')
        parts.extend(fragment)
    parts.append("</body></html>")
    return "\n".join(parts)
