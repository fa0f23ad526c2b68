"""`mlops-ci data-check PATH`: data-quality checks for an image dataset or a table.

A folder is a class-per-folder image dataset (PATH/<class>/<file>). Checks:
  not_image, unreadable   files Pillow cannot identify (not images) or decode (corrupt, truncated)
  duplicate               the same pixels again in the same class (the later copies are flagged)
  label_conflict          the same pixels in more than one class (every copy is flagged)
  mode, size              mode/channels or size other than `images.mode` / `images.size` (default:
                          the dataset's most common)
  empty_class, tiny_class a class folder with no readable image, or fewer than `images.min_per_class`
  imbalance               largest class / smallest class above `images.max_imbalance`
  layout                  a file outside any class folder
A CSV, Parquet or JSON Lines file is a table. Checks (rows numbered from 1, the header not counted):
  missing_column, missing a configured column is absent; a value is missing (unless `nullable`)
  duplicate_row           a row equal to an earlier one
  type, range, allowed    a value not of the column's `type`, outside `min`..`max`, not in `allowed`
  rule                    a business rule from `table.rules` is false for the row (`price > 0`,
                          `end_date >= start_date`): parsed by a tiny grammar, never evaluated as code
Settings: the `data_check:` section of --config FILE or .github/mlops-ci.yml
(mlops_ci/config/mlops-ci.schema.json). Exit 0 clean, 1 problems found, 2 unreadable input or a bad config.
"""

# pylint: disable=import-outside-toplevel  # numpy/pandas/Pillow are the `monitor` extra (monitor_io)

from __future__ import annotations

import argparse
import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_ci.core import gha
from mlops_ci.config import DEFAULT_PATH, load as load_config
from mlops_ci.config.sections import Section
from mlops_ci.monitoring import io as monitor_io
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.core.text import md_escape

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_MIN_PER_CLASS = 10
DEFAULT_MAX_IMBALANCE = 10.0
# Problems listed per check: in the JSON report, and in the Markdown summary.
JSON_LIMIT = 1000
MARKDOWN_LIMIT = 20


@dataclass
class Problem:
    """One finding: which check, where (a file, or a row and column), and what."""

    check: str
    where: str
    detail: str
    row: int | None = None
    column: str | None = None


@dataclass
class Result:
    """What a data check found, plus facts about the data for the report."""

    kind: str
    path: str
    problems: list[Problem] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


# --- images -----------------------------------------------------------------------------------------

@dataclass
class ImageFile:  # pylint: disable=too-many-instance-attributes  # one scanned file
    """One file of an image dataset: its class, its name relative to the root, what it holds."""

    label: str
    name: str
    mode: str | None = None
    channels: int = 0
    size: tuple[int, int] | None = None
    digest: str | None = None
    error: str | None = None
    check: str | None = None


def scan_image(label: str, path: Path, root: Path) -> ImageFile:
    """Decode one file and hash its pixels (a re-encoded copy of a picture is still a copy)."""
    entry = ImageFile(label, path.relative_to(root).as_posix())
    try:
        image = monitor_io.open_image(path)
    except monitor_io.NotAnImage as error:
        # A .png Pillow can't identify is a broken picture; a stray notes.txt is not a picture at all.
        entry.error = str(error)
        entry.check = "unreadable" if path.suffix.lower() in monitor_io.IMAGE_SUFFIXES else "not_image"
        return entry
    except ValueError as error:
        entry.error, entry.check = str(error), "unreadable"
        return entry
    entry.mode, entry.channels, entry.size = image.mode, len(image.getbands()), image.size
    header = f"{image.mode}:{image.size[0]}x{image.size[1]}:".encode()
    entry.digest = hashlib.sha256(header + image.tobytes()).hexdigest()
    return entry


def _expected(config: Section, key: str, seen: Counter) -> Any:
    value = config.get("images", key)
    if value is None and seen:
        return seen.most_common(1)[0][0]
    return tuple(value) if isinstance(value, list) else value


def check_images(files: list[ImageFile], classes: list[str], config: Section) -> Result:
    """Run every image check over the scanned files of a dataset whose class folders are `classes`."""
    result = Result("images", "")
    readable = [entry for entry in files if entry.error is None and entry.label]
    for entry in files:
        if not entry.label:
            result.problems.append(Problem("layout", entry.name, "not in a class folder"))
        elif entry.check is not None:
            result.problems.append(Problem(entry.check, entry.name, entry.error or entry.check))
    result.problems += _duplicates(readable)
    mode = _expected(config, "mode", Counter(entry.mode for entry in readable))
    size = _expected(config, "size", Counter(entry.size for entry in readable))
    for entry in readable:
        if mode is not None and entry.mode != mode:
            result.problems.append(Problem("mode", entry.name, f"mode {entry.mode} ({entry.channels} "
                                                               f"channel(s)), expected {mode}"))
        if size not in (None, "any") and entry.size != size:
            result.problems.append(Problem("size", entry.name, f"{entry.size[0]}x{entry.size[1]}, "
                                                               f"expected {size[0]}x{size[1]}"))
    counts = Counter(entry.label for entry in readable)
    result.problems += _class_problems({label: counts.get(label, 0) for label in classes}, config)
    result.stats = {"files": len(files), "images": len(readable), "classes": dict(sorted(counts.items())),
                    "mode": mode, "size": list(size) if isinstance(size, tuple) else size}
    return result


def _duplicates(readable: list[ImageFile]) -> list[Problem]:
    by_digest: dict[str, list[ImageFile]] = defaultdict(list)
    for entry in readable:
        by_digest[entry.digest].append(entry)
    problems = []
    for copies in by_digest.values():
        if len({entry.label for entry in copies}) > 1:
            for entry in copies:
                others = ", ".join(other.name for other in copies if other is not entry)
                problems.append(Problem("label_conflict", entry.name, f"same pixels as {others}"))
        else:
            problems += [Problem("duplicate", entry.name, f"same pixels as {copies[0].name}")
                         for entry in copies[1:]]
    return problems


def _class_problems(counts: dict[str, int], config: Section) -> list[Problem]:
    minimum = config.get("images", "min_per_class", default=DEFAULT_MIN_PER_CLASS)
    limit = config.get("images", "max_imbalance", default=DEFAULT_MAX_IMBALANCE)
    problems = []
    for label, count in counts.items():
        if count == 0:
            problems.append(Problem("empty_class", f"{label}/", "no readable image"))
        elif count < minimum:
            problems.append(Problem("tiny_class", f"{label}/", f"{count} image(s), fewer than {minimum}"))
    present = {label: count for label, count in counts.items() if count}
    if len(present) > 1:
        largest, smallest = max(present, key=present.get), min(present, key=present.get)
        ratio = present[largest] / present[smallest]
        if ratio > limit:
            problems.append(Problem("imbalance", f"{smallest}/",
                                    f"{largest}/ has {present[largest]} images, {smallest}/ "
                                    f"{present[smallest]}: ratio {ratio:.1f} > {limit:g}"))
    return problems


def check_image_folder(root: Path, config: Section) -> Result:
    """Scan and check a class-per-folder dataset."""
    classes = sorted(path.name for path in root.iterdir() if path.is_dir() and not path.name.startswith("."))
    if not classes:
        raise MlopsCiError("no class folders: an image dataset is PATH/<class>/<image>", where=str(root))
    files = [scan_image(label, path, root) for label, path in monitor_io.dataset_files(root)]
    result = check_images(files, classes, config)
    result.path = str(root)
    return result


# --- tables -----------------------------------------------------------------------------------------

_NAME = r"`[^`]+`|[A-Za-z_]\w*"
_RULE = re.compile(rf"^\s*(?P<left>{_NAME})\s*(?P<op>==|!=|<=|>=|<|>)\s*(?P<right>.+?)\s*$")
_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_STRING = re.compile(r"""^(?:'([^']*)'|"([^"]*)")$""")
_OPERATORS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


@dataclass(frozen=True)
class Rule:
    """A parsed business rule: a column, an operator, and a column or a literal."""

    text: str
    left: str
    op: str
    right: Any
    right_is_column: bool


def parse_rule(text: str) -> Rule:
    """`COLUMN OP COLUMN|LITERAL` as a Rule; ValueError when the text is not in that grammar."""
    match = _RULE.match(text)
    if match is None:
        raise ValueError("expected COLUMN OP COLUMN or COLUMN OP LITERAL, OP one of == != < <= > >=")
    left, right = match.group("left").strip("`"), match.group("right")
    if _NUMBER.match(right):
        value: Any = float(right) if any(char in right for char in ".eE") else int(right)
        return Rule(text, left, match.group("op"), value, False)
    if right in ("true", "false"):
        return Rule(text, left, match.group("op"), right == "true", False)
    string = _STRING.match(right)
    if string is not None:
        return Rule(text, left, match.group("op"), next(g for g in string.groups() if g is not None), False)
    if re.fullmatch(_NAME, right):
        return Rule(text, left, match.group("op"), right.strip("`"), True)
    raise ValueError(f"{right!r} is neither a column nor a literal (number, 'string', true, false)")


def _typed(series: pd.Series, kind: str | None) -> pd.Series:
    """The column as its configured type; values that don't parse become missing."""
    import pandas as pd

    if kind in ("integer", "number"):
        return pd.to_numeric(series, errors="coerce")
    if kind == "date":
        return pd.to_datetime(series, errors="coerce", format="ISO8601")
    if kind == "boolean":
        words = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
        return series.map(lambda value: words.get(str(value).strip().lower()), na_action="ignore")
    return series


def _rows(mask: pd.Series) -> list[int]:
    return [int(index) + 1 for index in mask[mask].index]


def _column_problems(df: pd.DataFrame, name: str, spec: dict[str, Any]) -> list[Problem]:
    """Missing, mistyped, out-of-range and not-allowed values of one column."""
    raw = df[name]
    present = raw.notna()
    problems = []
    if not spec.get("nullable", False):
        problems += [Problem("missing", f"row {row}", f"{name} is missing", row, name)
                     for row in _rows(~present)]
    # A range without a type is a numeric range.
    kind = spec.get("type") or ("number" if "min" in spec or "max" in spec else None)
    values = _typed(raw, kind)
    bad_type = present & values.isna()
    if kind == "integer":
        bad_type |= present & values.notna() & (values % 1 != 0)
    problems += _flag("type", raw, bad_type, f"is not a valid {kind}")
    return problems + _value_problems(raw, values, present & ~bad_type, spec)


def _value_problems(raw: pd.Series, values: pd.Series, valid: pd.Series,
                    spec: dict[str, Any]) -> list[Problem]:
    """Range and allowed-value problems among the `valid` (present, well-typed) values."""
    import pandas as pd

    problems = []
    for bound, outside, words in (("min", values.lt, "below the minimum"),
                                  ("max", values.gt, "above the maximum")):
        if bound in spec:
            limit = pd.Timestamp(spec[bound]) if spec.get("type") == "date" else spec[bound]
            problems += _flag("range", raw, valid & outside(limit).fillna(False), f"is {words} {spec[bound]}")
    if "allowed" in spec:
        allowed = {str(item) for item in spec["allowed"]}
        problems += _flag("allowed", raw, valid & ~raw.map(lambda v: str(_plain(v)) in allowed),
                          f"is not one of {', '.join(sorted(allowed))}")
    return problems


def _flag(check: str, raw: pd.Series, mask: pd.Series, what: str) -> list[Problem]:
    """A problem for every row in `mask`: `column=value what`."""
    return [Problem(check, f"row {row}", f"{raw.name}={_shown(raw.iloc[row - 1])} {what}", row, str(raw.name))
            for row in _rows(mask)]


def _shown(value: Any) -> str:
    # numpy scalars print as np.float64(-3.0); the plain Python value reads better.
    return repr(value.item() if hasattr(value, "item") else value)


def _plain(value: Any) -> Any:
    # 3.0 read from a CSV with missing values in the column (a float column) matches allowed 3.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _rule_problems(df: pd.DataFrame, rule: Rule, columns: dict[str, Any], config: Section,
                   index: int) -> list[Problem]:
    import pandas as pd

    for name in (rule.left, rule.right) if rule.right_is_column else (rule.left,):
        if name not in df.columns:
            raise config.error(f"{rule.text!r}: the table has no column {name!r}", "table", "rules", index)
    kinds = {name: (columns.get(name) or {}).get("type") for name in df.columns}
    left = _typed(df[rule.left], kinds[rule.left])
    if rule.right_is_column:
        right: Any = _typed(df[rule.right], kinds[rule.right])
        known = left.notna() & right.notna()
    else:
        # The literal takes the column's configured type ('2024-01-01' for a date column).
        right = _typed(pd.Series([rule.right], dtype=object), kinds[rule.left]).iloc[0]
        if pd.isna(right):
            raise config.error(f"{rule.text!r}: {rule.right!r} is not a {kinds[rule.left]}", "table", "rules",
                               index)
        known = left.notna()
        if isinstance(rule.right, (int, float)) and not isinstance(rule.right, bool):
            # A value that is not a number can't satisfy `price > 0`: it counts as false.
            left = pd.to_numeric(left, errors="coerce")
    try:
        holds = getattr(left, _OPERATORS[rule.op])(right).fillna(False).astype(bool)
    except TypeError as error:
        raise config.error(f"{rule.text!r}: cannot compare these values ({error}); declare the columns' "
                           "type under data_check.table.columns", "table", "rules", index) from error
    return [Problem("rule", f"row {row}", f"{rule.text} is false", row, rule.left)
            for row in _rows(known & ~holds)]


def check_table(df: pd.DataFrame, config: Section) -> Result:
    """Run every table check over a DataFrame (rows reported 1-based, header not counted)."""
    import pandas as pd

    df = df.reset_index(drop=True)
    result = Result("table", "")
    columns: dict[str, Any] = config.get("table", "columns", default={})
    for name, spec in columns.items():
        if name not in df.columns and (spec or {}).get("required", True):
            result.problems.append(Problem("missing_column", name, f"no column {name!r}", column=name))
    for name in df.columns:
        result.problems += _column_problems(df, str(name), columns.get(name) or {})
    if config.get("table", "duplicates", default=True):
        hashes = pd.util.hash_pandas_object(df, index=False)
        first: dict[int, int] = {}
        for row, digest in enumerate(hashes, start=1):
            if digest in first:
                result.problems.append(Problem("duplicate_row", f"row {row}", f"same as row {first[digest]}",
                                               row))
            else:
                first[digest] = row
    for index, text in enumerate(config.get("table", "rules", default=[])):
        try:
            rule = parse_rule(text)
        except ValueError as error:
            raise config.error(f"{text!r}: {error}", "table", "rules", index) from error
        result.problems += _rule_problems(df, rule, columns, config, index)
    result.stats = {"rows": len(df), "columns": [str(name) for name in df.columns]}
    return result


# --- report -----------------------------------------------------------------------------------------

def check_counts(problems: list[Problem]) -> dict[str, int]:
    """Problems per check, in order of first appearance."""
    return dict(Counter(problem.check for problem in problems))


def to_json(result: Result) -> dict[str, Any]:
    """The --json report: at most JSON_LIMIT problems listed per check, every one counted."""
    listed: Counter = Counter()
    problems = []
    for problem in result.problems:
        listed[problem.check] += 1
        if listed[problem.check] <= JSON_LIMIT:
            problems.append({key: value for key, value in asdict(problem).items() if value is not None})
    return {"kind": result.kind, "path": result.path, "ok": not result.problems,
            "counts": check_counts(result.problems), "stats": result.stats, "problems": problems}


def to_markdown(result: Result) -> str:
    """The job summary: a verdict, problems per check, then the first few of each check."""
    stats = result.stats
    if result.kind == "images":
        facts = (f"{stats['images']} readable image(s) of {stats['files']} file(s) "
                 f"in {len(stats['classes'])} class(es)")
    else:
        facts = f"{stats['rows']} row(s), {len(stats['columns'])} column(s)"
    verdict = "✅ clean" if not result.problems else f"❌ {len(result.problems)} problem(s)"
    lines = [f"### data-check: {verdict}", "", f"`{md_escape(result.path)}`: {facts}.", ""]
    if not result.problems:
        return "\n".join(lines)
    lines += ["| check | problems |", "|---|---|"]
    lines += [f"| {check} | {count} |" for check, count in check_counts(result.problems).items()]
    lines += ["", "| check | where | problem |", "|---|---|---|"]
    shown: Counter = Counter()
    for problem in result.problems:
        shown[problem.check] += 1
        if shown[problem.check] <= MARKDOWN_LIMIT:
            lines.append(f"| {problem.check} | {md_escape(problem.where)} | {md_escape(problem.detail)} |")
    hidden = sum(count - MARKDOWN_LIMIT for count in shown.values() if count > MARKDOWN_LIMIT)
    if hidden:
        lines += ["", f"… and {hidden} more (the JSON report lists up to {JSON_LIMIT} per check)."]
    return "\n".join(lines) + "\n"


def data_check(path: str, config: Section) -> Result:
    """Check the image folder or table at `path`."""
    target = Path(path)
    if target.is_dir():
        return check_image_folder(target, config)
    if not target.exists():
        raise MlopsCiError("no such file or folder", where=path)
    result = check_table(monitor_io.read_table(target), config)
    result.path = path
    return result


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci data-check`."""
    monitor_io.require_monitor_extra()
    config = load_config(args.config).data_check
    result = data_check(args.path, config)
    monitor_io.write_json(args.json, to_json(result))
    markdown = to_markdown(result)
    print(markdown)
    gha.append_summary(markdown)
    gha.set_output("problems", str(len(result.problems)))
    for check, count in check_counts(result.problems).items():
        example = next(problem for problem in result.problems if problem.check == check)
        gha.report("error", f"data-check {check}: {count} problem(s), e.g. {example.where}: {example.detail}",
                   file=result.path)
    return EXIT_REFUSED if result.problems else EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci data-check` to the CLI."""
    parser = subparsers.add_parser("data-check", help="data-quality checks of an image dataset or a table",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", metavar="PATH",
                        help="a class-per-folder image dataset, or a CSV/Parquet/JSONL file")
    parser.add_argument("--config", metavar="FILE",
                        help=f"settings (default: {DEFAULT_PATH} when it exists, "
                             "else the defaults)")
    parser.add_argument("--json", metavar="FILE", help="also write the findings as JSON")
    parser.set_defaults(handler=run)
