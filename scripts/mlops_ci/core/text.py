"""Showing untrusted text (branch names, PR titles, file contents) safely in messages and Markdown."""

from __future__ import annotations


def show(text: str, limit: int = 120) -> str:
    """Quote untrusted text for a message: control characters escaped, long text cut."""
    cut = text if len(text) <= limit else text[:limit] + "..."
    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                    for ch in cut)
    return f"'{shown}'"


def md_escape(text: str) -> str:
    """Text for a Markdown table cell: one line, no markup, no HTML, no cell breaks."""
    text = " ".join(text.splitlines())
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "|`*_[]~":
        text = text.replace(char, "\\" + char)
    return text
