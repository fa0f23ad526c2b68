"""Caller workflow templates: where they are and how one becomes a project's workflow."""

from __future__ import annotations

import re
from pathlib import Path

# `OWNER/mlops-ci/PATH@REF` in a `uses:` value.
_OWN_USES = re.compile(r"(?P<prefix>uses:\s*)[\w.-]+/(?P<repo>mlops-ci)(?P<path>/[^@\s]+)@[\w./-]+")


def template_files(source: Path) -> list[Path]:
    """The caller templates shipped in an mlops-ci checkout."""
    return sorted((source / "workflows-templates").glob("*.yml"))


def instantiate(text: str, *, org: str, ref: str, default_branch: str = "main") -> str:
    """A template's text as a project uses it: our `uses:` at ORG and REF, placeholders filled."""
    text = _OWN_USES.sub(lambda m: f"{m['prefix']}{org}/{m['repo']}{m['path']}@{ref}", text)
    return text.replace("$default-branch", default_branch)
