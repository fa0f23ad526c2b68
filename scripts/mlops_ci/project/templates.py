"""Caller workflow templates: the checkout that holds them, where they are in it and how one becomes a
project's workflow."""

from __future__ import annotations

import re
from pathlib import Path

# `OWNER/mlops-ci/PATH@REF` in a `uses:` value.
_OWN_USES = re.compile(r"(?P<prefix>uses:\s*)[\w.-]+/(?P<repo>mlops-ci)(?P<path>/[^@\s]+)@[\w./-]+")
_PINNED_FILES = re.compile(r"^(?P<prefix>(?P<indent>\s*)pinned-files:).*$", re.MULTILINE)


def default_source() -> Path | None:
    """The mlops-ci checkout this package was installed from (editable installs), if any."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / ".github" / "workflows").is_dir() and (root / "actions").is_dir() else None


def template_files(source: Path) -> list[Path]:
    """The caller templates shipped in an mlops-ci checkout."""
    return sorted((source / "workflows-templates").glob("*.yml"))


def instantiate(text: str, *, org: str, ref: str, default_branch: str = "main",  # pylint: disable=too-many-arguments
                pinned_files: list[str] | None = None, requirements: str | None = None) -> str:
    """A template's text as a project uses it: our `uses:` at ORG and REF, placeholders filled, the
    lint-test job's `pinned-files` set to `pinned_files` when given (empty: the check is skipped), and
    its `requirements` (the file it installs) set beside it when given."""
    text = _OWN_USES.sub(lambda m: f"{m['prefix']}{org}/{m['repo']}{m['path']}@{ref}", text)

    def lint_test_inputs(match: re.Match[str]) -> str:
        line = match[0] if pinned_files is None else f"{match['prefix']} \"{' '.join(pinned_files)}\""
        return line if requirements is None else f"{match['indent']}requirements: {requirements}\n{line}"

    text = _PINNED_FILES.sub(lint_test_inputs, text)
    return text.replace("$default-branch", default_branch)
