"""The one loader of .github/mlops-ci.yml: every section, validated once against one schema.

`load()` finds the file, `parse()` reads it: the YAML is parsed once (yamlfile), the whole document
is checked against mlops-ci.schema.json (validate; a section or key this version does not know is an
error too), then each section becomes its record (sections), with the checks only Python can make.
Every problem is an MlopsCiError naming the file and, where it can, the line (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mlops_ci.config import sections, validate, yamlfile
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.core.proc import git_output

DEFAULT_PATH = Path(".github") / "mlops-ci.yml"
SCHEMA_PATH = Path(__file__).resolve().parent / "mlops-ci.schema.json"


@cache
def schema() -> dict[str, Any]:
    """mlops-ci.schema.json (read once)."""
    return validate.load_schema(SCHEMA_PATH)


@dataclass(frozen=True)
class ProjectConfig:  # pylint: disable=too-many-instance-attributes
    """Every section of a config file, defaults filled in."""

    source: str | None = None  # the file, "REV:.github/mlops-ci.yml", or None for the built-in defaults
    policy: sections.Policy = field(default_factory=sections.policy_section)
    naming: sections.NamingPatterns = field(default_factory=dict)
    model: sections.ModelConfig | None = None
    report: sections.ReportConfig = field(default_factory=sections.ReportConfig)
    promotion: sections.PromotionConfig = field(default_factory=sections.PromotionConfig)
    data_check: sections.Section = field(default_factory=lambda: sections.Section("data_check"))
    drift: sections.Section = field(default_factory=lambda: sections.Section("drift"))
    quality: sections.QualityConfig = field(default_factory=sections.QualityConfig)


def parse(text: str, where: str) -> ProjectConfig:
    """The config in `text` (`where` names it in errors)."""
    document, lines = yamlfile.parse(text, where)
    problem = validate.schema_error(schema(), document, where, lines=lines)
    if problem is not None:
        raise problem
    document = document or {}
    return ProjectConfig(
        source=where,
        policy=sections.policy_section(document.get("policy"), where, lines),
        naming=sections.naming_section(document.get("naming"), where, lines),
        model=sections.model_section(document.get("model"), where, lines),
        report=sections.report_section(document.get("report"), where, lines),
        promotion=sections.promotion_section(document.get("promotion")),
        data_check=sections.Section("data_check", document.get("data_check") or {}, where, lines),
        drift=sections.Section("drift", document.get("drift") or {}, where, lines),
        quality=sections.quality_section(document.get("quality")))


def load(option: str | None = None, *, repo: Path = Path("."), rev: str | None = None) -> ProjectConfig:
    """The config of a repository, from the first of:

    - `option` (--config FILE, relative to the current directory): it must exist;
    - `rev`: REV:.github/mlops-ci.yml of the git repository `repo` (a pull request's base commit, so a
      PR cannot loosen its own rules); the defaults when that commit has no such file;
    - `repo`/.github/mlops-ci.yml when it exists;
    - the built-in defaults.
    """
    if option is not None:
        path = Path(option)
        if not path.is_file():
            raise MlopsCiError("no such config file", where=option)
        return parse(yamlfile.read(path), option)
    if rev:
        text = git_output(repo, "show", f"{rev}:{DEFAULT_PATH.as_posix()}")
        return ProjectConfig() if text is None else parse(text, f"{rev}:{DEFAULT_PATH.as_posix()}")
    path = repo / DEFAULT_PATH
    return parse(yamlfile.read(path), str(path)) if path.is_file() else ProjectConfig()
