"""The sections of .github/mlops-ci.yml as frozen records, and the checks a JSON schema cannot make.

Each `*_section` function takes a section the schema has already validated (None = not given) and
returns its record with the defaults filled in. What only Python can check is checked here, naming
the key and its line: regular expressions compile, and no metric is in two of the report's lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from mlops_ci.core.errors import MlopsCiError
# The one edge above this layer: the report's direction rule falls back on the metric-name contract,
# a pure module without imports of its own.

KeyPath = tuple[Any, ...]
Lines = Mapping[KeyPath, int]

# --- policy -------------------------------------------------------------------------------------

DEFAULT_TYPES = ("feature", "hotfix", "bugfix")
DEFAULT_MAX_LENGTH = 100

# Work-item references. Deliberately strict, to keep false positives out:
#  - GitHub `#123` or `owner/repo#123`: the `#` starts the text or follows a space or an opening
#    bracket/punctuation, so `C#`, `#abc`, `&#123;` and `issue#12` do not count (`#123456` does).
#  - Jira `PROJ-123`: an upper-case key of 2 to 10 characters; not a version (`ABC-1.2`), and not
#    a well-known technical prefix (`UTF-8`, `SHA-256`, `ISO-8601`, `CVE-2024-1`, `GPT-4`...).
#  - Azure Boards `AB#123`.
#  - An issue-tracker URL: .../issues/N (GitHub, GitLab), .../browse/KEY-N (Jira),
#    .../issue/KEY-N (Linear), .../_workitems/edit/N (Azure DevOps), .../work_items/N (GitLab).
# Lower-case words, bare hex SHAs and version strings such as v1.2-3 match none of them.
DEFAULT_WORK_ITEM_PATTERNS = (
    r"(?:^|(?<=[\s(\[{,;:]))(?:[\w.-]+/[\w.-]+)?#\d+\b",
    r"\b(?!(?:UTF|UCS|SHA|ISO|RFC|CVE|CWE|PEP|TLS|SSL|AES|RSA|IEEE|GPT|COVID)-)"
    r"[A-Z][A-Z0-9_]{1,9}-\d+\b(?!\.\d)",
    r"\bAB#\d+\b",
    r"https?://[^\s/?#]+(?:/[^\s/?#]+)*/(?:issues/\d+|(?:browse|issue)/[A-Z][A-Z0-9_]+-\d+"
    r"|_workitems/edit/\d+|work_items/\d+)\b",
)


@dataclass(frozen=True)
class TargetRule:
    """Which source branches a target branch (glob) accepts; `sources` None = any."""

    target: str
    sources: tuple[str, ...] | None
    require_work_item: bool | None = None  # None: the policy-wide setting


@dataclass(frozen=True)
class BranchNameRule:
    """Work-branch names: <type>/<task-name>, at most `max_length` characters."""

    types: tuple[str, ...] = DEFAULT_TYPES
    max_length: int = DEFAULT_MAX_LENGTH


@dataclass(frozen=True)
class WorkItemRule:
    """A PR's title or description must match one of `patterns` (when `required`)."""

    required: bool = True
    patterns: tuple[re.Pattern[str], ...] = field(
        default_factory=lambda: tuple(re.compile(p) for p in DEFAULT_WORK_ITEM_PATTERNS))
    custom: bool = False  # patterns come from the config


@dataclass(frozen=True)
class Policy:
    """The policy section of a config file, defaults filled in."""

    targets: tuple[TargetRule, ...]
    allow_hotfix_to_main: bool = False
    branch_name: BranchNameRule = field(default_factory=BranchNameRule)
    work_item: WorkItemRule = field(default_factory=WorkItemRule)
    source: str | None = None  # the config file, None for the built-in defaults

    def rule_for(self, base: str) -> TargetRule | None:
        """The rule of a target branch: an exact name first, then the first glob that matches."""
        for rule in self.targets:
            if rule.target == base:
                return rule
        return next((rule for rule in self.targets if fnmatchcase(base, rule.target)), None)


def _default_targets(types: tuple[str, ...]) -> dict[str, TargetRule]:
    return {"main": TargetRule("main", ("develop",)),
            "develop": TargetRule("develop", tuple(f"{kind}/*" for kind in types))}


def _compile_patterns(patterns: list[str] | tuple[str, ...], where: str | None = None,
                     line_of: Callable[[int], int | None] | None = None) -> tuple[re.Pattern[str], ...]:
    """Compiled work-item patterns; a bad one is a config error naming its key (and line)."""
    compiled = []
    for index, pattern in enumerate(patterns):
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            raise MlopsCiError(f"policy.work_item.patterns[{index}]: invalid regular expression: {error}",
                               where=where, line=line_of(index) if line_of else None) from error
    return tuple(compiled)


def policy_section(section: Mapping[str, Any] | None = None, source: str | None = None,
                   lines: Lines | None = None) -> Policy:
    """A Policy from a validated `policy:` mapping (None or {} = the defaults).

    Targets given in the config replace the default rule of the same target and add new ones; the
    default develop rule follows `branch_name.types`.
    """
    section = section or {}
    names = section.get("branch_name", {})
    types = tuple(names.get("types", DEFAULT_TYPES))
    targets = _default_targets(types)
    for target, value in section.get("targets", {}).items():
        if isinstance(value, list):
            targets[target] = TargetRule(target, tuple(value))
        else:
            sources = value.get("from")
            targets[target] = TargetRule(target, None if sources is None else tuple(sources),
                                         value.get("require_work_item"))
    allow_hotfix = bool(section.get("allow_hotfix_to_main", False))
    main = targets["main"]
    if allow_hotfix and main.sources is not None and "hotfix/*" not in main.sources:
        targets["main"] = TargetRule("main", main.sources + ("hotfix/*",), main.require_work_item)
    work_item = section.get("work_item", {})
    patterns = work_item.get("patterns")
    compiled = _compile_patterns(patterns or DEFAULT_WORK_ITEM_PATTERNS, source,
                                lambda index: (lines or {}).get(("policy", "work_item", "patterns", index)))
    return Policy(targets=tuple(targets.values()), allow_hotfix_to_main=allow_hotfix,
                  branch_name=BranchNameRule(types, int(names.get("max_length", DEFAULT_MAX_LENGTH))),
                  work_item=WorkItemRule(bool(work_item.get("required", True)), compiled,
                                         custom=patterns is not None),
                  source=source)


# --- naming -------------------------------------------------------------------------------------

# kind (model, dataset, experiment) -> its compiled pattern; only the kinds the file sets (the
# defaults are training.naming's).
NamingPatterns = Mapping[str, re.Pattern[str]]


def naming_section(section: Mapping[str, Any] | None, where: str | None = None,
                   lines: Lines | None = None) -> NamingPatterns:
    """The compiled patterns of a validated `naming:` mapping; a bad regular expression names its line."""
    patterns = {}
    for kind, text in (section or {}).items():
        try:
            patterns[kind] = re.compile(text)
        except re.error as problem:
            raise MlopsCiError(f"naming.{kind}: invalid regular expression: {problem}", where=where,
                               line=(lines or {}).get(("naming", kind))) from problem
    return patterns


# --- report -------------------------------------------------------------------------------------

DIRECTION_LISTS = ("lower_is_better", "higher_is_better", "informational")


@dataclass(frozen=True)
class ReportConfig:  # pylint: disable=too-many-instance-attributes
    """The `report:` section of .github/mlops-ci.yml."""

    lower_is_better: tuple[str, ...] = ()
    higher_is_better: tuple[str, ...] = ()
    precision: int = 4
    max_points: int = 50
    max_files: int = 20
    max_chars: int = 64_000
    informational: tuple[str, ...] = ()


def report_section(section: Mapping[str, Any] | None, where: str | None = None,
                   lines: Lines | None = None) -> ReportConfig:
    """A ReportConfig from a validated `report:` mapping; a metric in two direction lists is an error
    at the earlier of the two lists."""
    section = section or {}
    for index, first in enumerate(DIRECTION_LISTS):
        for second in DIRECTION_LISTS[index + 1:]:
            both = sorted(set(section.get(first, ())) & set(section.get(second, ())))
            if both:
                found = [line for key in (first, second) if (line := (lines or {}).get(("report", key)))]
                raise MlopsCiError(f"report: {both[0]!r} is both {first} and {second}", where=where,
                                   line=min(found, default=None))
    # The schema's integers include 2.0; the report formats and slices with them.
    return ReportConfig(**{key: tuple(value) if key in DIRECTION_LISTS else int(value)
                           for key, value in section.items()})


# --- promotion ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PromotionConfig:
    """The `promotion:` section of .github/mlops-ci.yml; "" = not set (promote's defaults apply)."""

    gates: tuple[str, ...] = ()
    alias: str = ""
    predictions: str = ""
    copy_to: str = ""


def promotion_section(section: Mapping[str, Any] | None) -> PromotionConfig:
    """A PromotionConfig from a validated `promotion:` mapping (its gates' form is the schema's)."""
    section = section or {}
    return PromotionConfig(**{**section, "gates": tuple(section.get("gates", ()))})


# --- model --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelConfig:
    """The `model:` section: what `mlops-ci track` registers, and how it loads the file first."""

    name: str
    path: str
    flavor: str
    experiment: str = ""   # "" = the model's name
    loader: str = ""       # "module:function", "" = the flavor's own loading


def model_section(section: Mapping[str, Any] | None, where: str | None = None,
                  lines: Lines | None = None) -> ModelConfig | None:
    """A ModelConfig from a validated `model:` mapping; None when the file names no model. A pyfunc
    model has no loading of its own, so it needs the project's loader."""
    if not section:
        return None
    if section["flavor"] == "pyfunc" and not section.get("loader"):
        raise MlopsCiError("model.loader: required by flavor pyfunc (module:function that loads the file)",
                           where=where, line=(lines or {}).get(("model", "flavor")))
    return ModelConfig(**section)


# --- quality ------------------------------------------------------------------------------------

QUALITY_MODES = ("whole", "new-code")
DEFAULT_NEW_CODE_COVERAGE = 80.0
DEFAULT_NEW_CODE_PYLINT = 100.0


@dataclass(frozen=True)
class QualityConfig:
    """The `quality:` section: which code the lint and test gates judge, and the thresholds of the
    changed lines in new-code mode (percentages)."""

    mode: str = "whole"
    new_code_coverage: float = DEFAULT_NEW_CODE_COVERAGE
    new_code_pylint: float = DEFAULT_NEW_CODE_PYLINT


def quality_section(section: Mapping[str, Any] | None) -> QualityConfig:
    """A QualityConfig from a validated `quality:` mapping."""
    section = section or {}
    new_code = section.get("new_code") or {}
    return QualityConfig(mode=section.get("mode", "whole"),
                         new_code_coverage=float(new_code.get("coverage", DEFAULT_NEW_CODE_COVERAGE)),
                         new_code_pylint=float(new_code.get("pylint", DEFAULT_NEW_CODE_PYLINT)))


# --- data_check, drift --------------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    """A section read by key (`data_check`, `drift`), with the line of every value for error messages."""

    name: str
    values: Mapping[str, Any] = field(default_factory=dict)
    where: str | None = None
    lines: Lines = field(default_factory=dict)

    def get(self, *keys: str, default: Any = None) -> Any:
        """The value at `keys` under the section (or `default`)."""
        value: Any = self.values
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return default
            value = value[key]
        return value

    def error(self, message: str, *keys: Any) -> MlopsCiError:
        """A config error at the value `keys` (under the section), with its line when known."""
        return MlopsCiError(f"{'.'.join(map(str, (self.name, *keys)))}: {message}", where=self.where,
                            line=self.lines.get((self.name, *keys)))
