"""`mlops-ci deps check`: every dependency pinned to one version, as the SOP asks.

Reads pip requirements files and conda environment files (a .yml or .yaml FILE, which must have a
`dependencies:` list) and lists every requirement that is not pinned, with its file and line and a
fix. Exit 0 all pinned, 1 some are not (every one listed), 2 a missing or malformed file.

pip requirements files (any FILE that is not .yml/.yaml, and every -r/-c include):
  pinned     name==1.2.3 and name===1.2.3, also with extras (name[gpu]==1.2.3), an environment
             marker (; python_version < "3.12") and --hash options (\\ continuation lines too)
  refused    no version (name), a range (>=, >, <=, <, !=, ~=, several specifiers), a wildcard
             (==1.*), a --hash without == (pip needs == to check it)
  -c FILE    constraints: a requirement with no version or a range passes when a constraints file
             of the same FILE (read through its -r/-c includes) pins it with == or === (no marker,
             or the requirement's marker); constraints themselves are never refused
  -r FILE    followed, relative to the including file; an include cycle is an error (exit 2);
             -r/-c of a URL is refused (a remote file can change)
  VCS URLs   git+https://...@<full commit SHA> (40 or 64 hex digits; hg+: the 40-hex changeset id;
             svn+/bzr+: a revision number); a branch, tag, short SHA or no revision is refused
  URLs       name @ https://.../name-1.2.3-py3-none-any.whl (or name-1.2.3.tar.gz/.zip) passes when
             the file name carries a version and a hash pins the bytes (--hash=sha256:... or
             #sha256=... in the URL); a URL without either is refused
  local      ./pkg, ../pkg, /abs/pkg, dir/pkg, a local archive, -e ., file: URLs: allowed
  ignored    comments, blank lines, -i/--index-url, --extra-index-url, -f/--find-links,
             --no-index, --pre, --trusted-host, --prefer-binary, --only-binary, --no-binary,
             --require-hashes, --use-feature
conda environment files:
  pinned     name==1.26.4, name=1.26.4 (three or more parts: conda reads =V as V.*),
             name=1.26=build (a build string makes the version exact), name 1.26.4 [build],
             name[version='1.26.4'], channel::name=1.26.4; python=3.11 (the interpreter pinned to a
             minor version: conda takes its newest bug-fix release)
  refused    no version, ranges, wildcards, and name=X or name=X.Y for anything but python
             (conda reads numpy=1.26 as 1.26.*: give the full version, or numpy==1.26)
  pip:       its entries follow the pip rules (-r/-c relative to the environment file); problems
             point at the entry's YAML line
"""

from __future__ import annotations

import argparse

from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED
from mlops_ci.core.text import md_escape
from mlops_ci.quality.deps.pinning import check_files
from mlops_ci.quality.deps.rules import Problem


def summary_markdown(found: list[Problem], checked: int, files: list[str]) -> str:
    """The job summary: the verdict, then a where | package | problem | fix table."""
    shown_files = ", ".join(md_escape(file) for file in files)
    if not found:
        return (f"### deps: ✅ {checked} requirement(s) pinned\n\n"
                f"**files:** {shown_files}\n")
    lines = [f"### deps: ❌ {len(found)} unpinned requirement(s)", "", f"**files:** {shown_files}", "",
             "| where | package | problem | fix |", "| --- | --- | --- | --- |"]
    for item in found:
        dependency = item.dependency
        lines.append(f"| {md_escape(f'{dependency.file}:{dependency.line}')} | {md_escape(dependency.name)} "
                     f"| {md_escape(item.reason)} | {md_escape(item.fix)} |")
    return "\n".join(lines) + "\n"


def run_check(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci deps check`."""
    pinning = check_files(args.files)
    found, files = pinning.problems, pinning.files
    for item in found:
        gha.report("error", str(item), file=item.dependency.file, line=item.dependency.line,
                   title="unpinned dependency")
    if gha.in_actions():
        gha.append_summary(summary_markdown(found, pinning.checked, files))
    if found:
        print(f"deps: {len(found)} of {pinning.checked} requirement(s) not pinned "
              f"({len(files)} file(s) read)")
        return EXIT_REFUSED
    print(f"deps: {pinning.checked} requirement(s) pinned ({len(files)} file(s) read)")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci deps check` to the CLI."""
    parser = subparsers.add_parser(
        "deps", help="dependency files: every requirement pinned to one version",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="deps_command", metavar="SUBCOMMAND")
    commands.required = True
    check_parser = commands.add_parser(
        "check", help="list unpinned requirements (exit 0 all pinned, 1 some are not, 2 malformed file)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    check_parser.add_argument("files", nargs="+", metavar="FILE",
                              help="requirements files (pip) and environment.yml files (conda, .yml/.yaml)")
    check_parser.set_defaults(handler=run_check)
