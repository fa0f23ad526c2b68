"""The README and docs/ link only to files and headings that exist, and name no issue numbers: the docs
are split by audience, so a moved page or a renamed heading must not leave a dead link behind."""
# pylint: disable=missing-function-docstring  # test names say what they check

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", ROOT / "CHANGELOG.md", *(ROOT / "docs").rglob("*.md")])
# The CHANGELOG records which issue a change came from; the other pages are for readers of the docs.
USER_FACING = [path for path in DOCS if path.name != "CHANGELOG.md"]
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)
_ISSUE = re.compile(r"\bissues? #?\d+|\(#\d+\)", re.IGNORECASE)


def prose(path: Path) -> str:
    """The Markdown without code blocks and code spans, where a `[x](y)` is not a link."""
    return _CODE_SPAN.sub("", _FENCE.sub("", path.read_text(encoding="utf-8")))


def anchors(path: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces as hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    for heading in _HEADING.findall(_FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower()).replace(" ", "-")
        seen[slug] = seen.get(slug, -1) + 1
        if seen[slug]:
            seen[f"{slug}-{seen[slug]}"] = 0
    return set(seen)


def dead_links(path: Path) -> list[str]:
    """Each relative link of `path` whose file or heading does not exist, with what is missing."""
    dead = []
    for target in _LINK.findall(prose(path)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not ours to check
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            dead.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            dead.append(f"{target} (no such heading)")
    return dead


@pytest.mark.parametrize("path", DOCS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_relative_link_reaches_a_file_and_heading(path):
    assert not dead_links(path)


@pytest.mark.parametrize("path", USER_FACING, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_issue_numbers_in_the_docs(path):
    assert not _ISSUE.findall(prose(path))


def test_dead_links_and_headings_are_found(tmp_path):
    (tmp_path / "guide.md").write_text("# A `code` heading: here\n\n## Twice\n\n## Twice\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[ok](guide.md#a-code-heading-here) [ok](guide.md#twice-1) [x](gone.md) [y](#nowhere)\n"
                    "`[not](a-link.md)` [web](https://example.com/x)\n```\n[not](either.md)\n```\n",
                    encoding="utf-8")
    assert dead_links(page) == ["gone.md (no such file)", "#nowhere (no such heading)"]
