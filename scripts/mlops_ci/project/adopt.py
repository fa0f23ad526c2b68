"""`mlops-ci adopt --org NEWORG [--name NEWNAME] --ref TAG [DIR] [--write]`: run mlops-ci as your own.

Rewrites every reference to mlops-ci in a checkout of it (DIR, default .) to the organisation's own
copy: `OWNER/mlops-ci/PATH@REF` in the workflows, actions, caller templates, scaffold, zizmor.yml,
.pre-commit-hooks.yaml and the Markdown docs becomes `NEWORG/NEWNAME/PATH@TAG`, and
`github.com/OWNER/mlops-ci` links follow. Only refs that look like release tags (v1, v1.2.0,
v2.0.0-rc.1) or already are TAG are rewritten; references to other repositories (third-party
actions pinned by SHA) are never touched.

Dry run by default: prints each change as FILE:LINE: old -> new. --write writes them. A rerun with
the same arguments changes nothing. The release process runs it to keep our workflows calling our
actions at the tag being released (see docs/admins/releasing.md).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from mlops_ci.core.errors import EXIT_OK, MlopsCiError

DEFAULT_NAME = "mlops-ci"
# What carries references to us: workflows, actions, templates, the scaffold, linters' config, docs.
FILE_GLOBS = (".github/**/*.yml", ".github/**/*.yaml", "actions/**/*.yml", "actions/**/*.yaml",
              "workflows-templates/*.yml", "scripts/mlops_ci/project/scaffold/**/*", ".pre-commit-hooks.yaml",
              "zizmor.yml", "*.md", "docs/**/*.md", "examples/**/*.md")
_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_REF = re.compile(r"(?!.*\.\.)[A-Za-z0-9][\w./-]*")
_TAG_LIKE = r"v\d+(?:\.\d+)*(?:-[0-9A-Za-z.]+)?"


@dataclass(frozen=True)
class Change:
    """One rewritten reference."""

    path: str
    line: int
    old: str
    new: str


def reference_pattern(names: tuple[str, ...], ref: str) -> re.Pattern[str]:
    """`OWNER/NAME[/PATH][@REF]` for any of `names`, standing alone or after `github.com/`."""
    alternatives = "|".join(re.escape(name) for name in names)
    return re.compile(
        r"(?:(?<=github\.com/)|(?<![\w./-]))"  # not the tail of a longer path such as .venv/bin/mlops-ci
        rf"(?P<owner>[A-Za-z0-9][\w.-]*)/(?P<name>{alternatives})"
        r"(?P<path>(?:/[\w.*-]+)*)"
        rf"(?:@(?P<ref>{_TAG_LIKE}|{re.escape(ref)}))?"
        r"(?![\w-]|\.(?!git\b)\w)")  # mlops-ci.yml and mlops-ci-pull-request.yml are file names


def rewrite(text: str, pattern: re.Pattern[str], org: str, name: str, ref: str) -> str:
    """`text` with every reference `pattern` finds pointing at ORG/NAME (and REF where it had one)."""
    def replace(match: re.Match[str]) -> str:
        at = f"@{ref}" if match["ref"] is not None else ""
        return f"{org}/{name}{match['path']}{at}"
    return pattern.sub(replace, text)


def plan(root: Path, org: str, name: str, ref: str) -> tuple[list[Change], dict[Path, str]]:
    """Every change under `root` and the new text of each file that changes."""
    pattern = reference_pattern(tuple(dict.fromkeys((DEFAULT_NAME, name))), ref)
    changes, texts = [], {}
    files = sorted({path for glob in FILE_GLOBS for path in root.glob(glob) if path.is_file()})
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not text: nothing to rewrite
        new_text = rewrite(text, pattern, org, name, ref)
        if new_text == text:
            continue
        texts[path] = new_text
        relative = path.relative_to(root).as_posix()
        for number, (old, new) in enumerate(zip(text.splitlines(), new_text.splitlines()), start=1):
            if old != new:
                changes.append(Change(relative, number, old.strip(), new.strip()))
    return changes, texts


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci adopt`."""
    for option, value, shape in (("--org", args.org, _OWNER), ("--name", args.name, _NAME),
                                 ("--ref", args.ref, _REF)):
        if not shape.fullmatch(value):
            raise MlopsCiError(f"{value!r} is not a valid {option[2:]}", where=option)
    root = Path(args.directory)
    if not (root / ".github" / "workflows").is_dir() or not (root / "actions").is_dir():
        raise MlopsCiError("not an mlops-ci checkout (no .github/workflows and actions/)", where=str(root))
    changes, texts = plan(root, args.org, args.name, args.ref)
    for change in changes:
        print(f"{change.path}:{change.line}: {change.old} -> {change.new}")
    if args.write:
        for path, text in texts.items():
            path.write_text(text, encoding="utf-8")
    verb = "changed" if args.write else "would change"
    print(f"{len(changes)} line(s) in {len(texts)} file(s) {verb}"
          + ("" if args.write or not changes else "; rerun with --write to apply"))
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci adopt` to the CLI."""
    parser = subparsers.add_parser(
        "adopt", help="point every mlops-ci reference at your organisation and tag",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", nargs="?", default=".", metavar="DIR",
                        help="the mlops-ci checkout (default: .)")
    parser.add_argument("--org", required=True, help="the organisation (or user) that hosts your copy")
    parser.add_argument("--name", default=DEFAULT_NAME,
                        help=f"your copy's repository name (default {DEFAULT_NAME})")
    parser.add_argument("--ref", required=True,
                        help="the tag callers and our workflows use, e.g. v1 or v1.4.0")
    parser.add_argument("--write", action="store_true", help="write the changes (default: only list them)")
    parser.set_defaults(handler=run)
