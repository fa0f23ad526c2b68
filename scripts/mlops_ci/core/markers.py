"""The hidden marker that makes a PR comment ours, and the size limits that follow from it."""

from __future__ import annotations

from mlops_ci.core.errors import MlopsCiError

COMMENT_LIMIT = 65_536           # GitHub's limit on an issue or pull-request comment body
MAX_KEY = 100


def marker(key: str) -> str:
    """The hidden HTML comment that identifies one report's comment."""
    if not key or "--" in key or ">" in key or len(key) > MAX_KEY:
        raise MlopsCiError(f"--marker {key!r}: use letters, digits, '.', '_', '/' or single '-' "
                           f"(at most {MAX_KEY})")
    return f"<!-- mlops-ci:{key} -->"


# What with_marker adds to a body at most: a body within COMMENT_LIMIT - MARKER_ROOM always posts.
MARKER_ROOM = len(marker("k" * MAX_KEY)) + 2


def with_marker(body: str, key: str) -> str:
    """The comment body as posted: the marker on its own first line, then the text."""
    text = f"{marker(key)}\n{body.rstrip()}\n"
    if len(text) > COMMENT_LIMIT:
        raise MlopsCiError(f"the comment is {len(text):,} characters; GitHub takes at most "
                           f"{COMMENT_LIMIT:,} (mlops-ci report fits its output; shorten the body)")
    return text


# The most a report may be: `comment` adds its marker.
BODY_LIMIT = COMMENT_LIMIT - MARKER_ROOM
