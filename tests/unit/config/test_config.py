"""The one loader of .github/mlops-ci.yml: where it reads from, the one schema (every section, closed at
the top), each section's record and Python checks, error wording with file and line, `config check`,
and the generated docs/users/config.md."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest

from mlops_ci import config
from mlops_ci.cli import main
from mlops_ci.config import sections, yamlfile
from mlops_ci.config.sections import ModelConfig, PromotionConfig, QualityConfig, ReportConfig
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.core.markers import BODY_LIMIT
from mlops_ci.project import config_doc
from mlops_ci.registry.metric_names import lower_is_better
from mlops_ci.training import naming, promote
from testing.project import commit_change, init_git_flow_repo

ROOT = Path(__file__).resolve().parents[3]
ALLOWED_SECTIONS = "data_check, drift, model, naming, policy, promotion, quality, report"


# Each test in an empty folder (no .github/mlops-ci.yml), outside Actions.
pytestmark = pytest.mark.usefixtures("empty_folder")


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def parse_error(text: str) -> MlopsCiError:
    with pytest.raises(MlopsCiError) as raised:
        config.parse(text, "c.yml")
    return raised.value


# --- where the file comes from ------------------------------------------------------------------

def test_no_file_means_the_defaults(tmp_path):
    loaded = config.load()
    assert loaded == config.ProjectConfig() and loaded.source is None
    assert loaded.policy.rule_for("main").sources == ("develop",)
    assert loaded.naming == {} and loaded.report == ReportConfig() and loaded.promotion == PromotionConfig()
    assert config.load(repo=tmp_path / "elsewhere") == config.ProjectConfig()


def test_the_repo_file_then_the_option(tmp_path):
    write(tmp_path / ".github" / "mlops-ci.yml", "report:\n  precision: 3\n")
    assert config.load().report.precision == 3 and config.load().source == ".github/mlops-ci.yml"
    other = tmp_path / "project"
    write(other / ".github" / "mlops-ci.yml", "report:\n  precision: 2\n")
    assert config.load(repo=other).report.precision == 2 and config.load(repo=other).source == \
        str(other / ".github" / "mlops-ci.yml")
    option = write(tmp_path / "other.yml", "report:\n  precision: 1\n")
    assert config.load(option, repo=other).report.precision == 1  # --config wins, CWD-relative
    assert config.load("other.yml").source == "other.yml"


@pytest.mark.parametrize("option", ["missing.yml", "."])  # a folder is no config file either
def test_a_missing_config_file(option):
    with pytest.raises(MlopsCiError) as raised:
        config.load(option)
    assert (raised.value.message, raised.value.where) == ("no such config file", option)


def test_unreadable_config(tmp_path):
    with pytest.raises(MlopsCiError, match="cannot read the config"):
        yamlfile.read(tmp_path)
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"policy: \xff\n")
    with pytest.raises(MlopsCiError, match="cannot read the config: not UTF-8 text"):
        config.load(str(binary))


def test_the_base_commit_rule(tmp_path):
    """rev=: REV:.github/mlops-ci.yml as that commit has it, whatever the working tree says."""
    write(tmp_path / "repo" / "README.md", "x\n")
    repo = init_git_flow_repo(tmp_path / "repo", "o/r", "start")
    assert config.load(repo=repo, rev="main") == config.ProjectConfig()  # the commit has no config
    commit_change(repo, "main", ".github/mlops-ci.yml", "naming:\n  model: 'team-[a-z]+'\n", "conventions")
    write(repo / ".github" / "mlops-ci.yml", "naming:\n  model: '.*'\n")  # the PR loosens its own rule
    loaded = config.load(repo=repo, rev="main")
    assert loaded.source == "main:.github/mlops-ci.yml"
    assert naming.check("model", "churn", loaded.naming) is not None
    assert naming.check("model", "churn", config.load(repo=repo).naming) is None  # the working tree's
    assert config.load(repo=repo, rev="no-such-branch") == config.ProjectConfig()
    commit_change(repo, "main", ".github/mlops-ci.yml", "naming:\n  model: ''\n", "broken")
    with pytest.raises(MlopsCiError) as raised:
        config.load(repo=repo, rev="main")
    assert str(raised.value) == "main:.github/mlops-ci.yml:2: naming.model: '' should be non-empty"


# --- one schema, closed at the top --------------------------------------------------------------

def test_an_unknown_section_names_its_line_and_the_allowed_sections():
    error = parse_error("policy: {}\n\nreprot:\n  precision: 2\n")
    assert str(error) == f"c.yml:3: reprot: unknown key (allowed: {ALLOWED_SECTIONS})"


@pytest.mark.parametrize(("text", "message"), [
    ("report:\n  anything: [1]\npolicy: {}\n", "report.anything: unknown key"),
    ("naming: {x: 1}\n", "naming.x: unknown key (allowed: dataset, experiment, model)"),
    ("- a list\n", "top level: ['a list'] is not of type 'object', 'null'"),
    ("defaults: &d\n  branch_name: {types: [task]}\npolicy:\n  <<: *d\n", "defaults: unknown key"),
])
def test_every_section_is_checked_whichever_command_reads_the_file(text, message):
    """Each command validated only its own section; one schema checks them all."""
    assert parse_error(text).message.startswith(message)


def test_the_schema_is_valid_and_every_property_is_described():
    schema = config.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    assert ", ".join(sorted(schema["properties"])) == ALLOWED_SECTIONS

    def walk(node, where):
        for name, child in node.get("properties", {}).items():
            target = schema["$defs"][child["$ref"].rsplit("/", 1)[-1]] if "$ref" in child else {}
            assert child.get("description") or target.get("description"), f"{where}.{name}"
        for key, child in node.items():
            if isinstance(child, dict):
                walk(child, f"{where}.{key}")
    walk(schema, "schema")


def test_the_report_bound_is_the_comment_limit():
    assert config.schema()["$defs"]["report"]["properties"]["max_chars"]["maximum"] == BODY_LIMIT


def test_the_shipped_examples_are_valid():
    example = {"policy": {"targets": {"main": ["develop"], "develop": ["feature/*", "hotfix/*", "bugfix/*"],
                                      "release/*": ["develop"]},
                          "allow_hotfix_to_main": False,
                          "branch_name": {"types": ["feature", "hotfix", "bugfix"], "max_length": 100},
                          "work_item": {"required": True,
                                        "patterns": list(sections.DEFAULT_WORK_ITEM_PATTERNS)}}}
    jsonschema.Draft202012Validator(config.schema()).validate(example)
    scaffold = ROOT / "scripts" / "mlops_ci" / "project" / "scaffold" / "dot-github" / "mlops-ci.yml"
    assert main(["config", "check", "--config", str(scaffold)]) == 0


# --- error wording: file, line, key -------------------------------------------------------------

# (text, line, message), moved from the policy command's tests: `config check` reports them the same way.
POLICY_ERRORS = [
    ("policy:\n  targets:\n    main: [develop\n", 4, "malformed YAML"),
    ("policy:\n  branch_name:\n    types: [feature]\n    max_lenght: 5\n", 4,
     "policy.branch_name.max_lenght: unknown key (allowed: max_length, types)"),
    ("policy:\n  reviewers: 2\n", 2, "policy.reviewers: unknown key (allowed: allow_hotfix_to_main, "
                                     "branch_name, targets, work_item)"),
    ("policy:\n  branch_name:\n    max_length: lots\n", 3,
     "policy.branch_name.max_length: 'lots' is not of type 'integer'"),
    ("policy:\n  allow_hotfix_to_main: 'yes'\n", 2,
     "policy.allow_hotfix_to_main: 'yes' is not of type 'boolean'"),
    ("policy:\n  targets:\n    'release/*': develop\n", 3,
     "policy.targets['release/*']: 'develop' is not of type 'array', 'object'"),
    ("policy:\n  targets:\n    main:\n      - develop\n      - ''\n", 5,
     "policy.targets.main[1]: '' should be non-empty"),
    ("policy:\n  targets:\n    main: {form: [develop]}\n", 3,
     "policy.targets.main.form: unknown key (allowed: from, require_work_item)"),
    ("policy:\n  work_item:\n    patterns: []\n", 3, "policy.work_item.patterns: [] should be non-empty"),
    ("policy:\n  work_item:\n    patterns:\n      - '#\\d+'\n      - '(unclosed'\n", 5,
     "policy.work_item.patterns[1]: invalid regular expression: missing ), unterminated subpattern"),
    ("- policy\n", 1, "top level: ['policy'] is not of type 'object', 'null'"),
    ("policy: [main]\n", 1, "policy: ['main'] is not of type 'object', 'null'"),
    # A merge key: the line is the anchor's, where the bad key is written (a top-level `defaults:`
    # holding the anchor would itself be an unknown section now).
    ("policy:\n  branch_name: &d\n    max_lenght: 5\n  work_item:\n    <<: *d\n", 3,
     "max_lenght: unknown key"),
    ("policy: {x: 1}\n\x07\n", 2, "malformed YAML: special characters are not allowed (U+0007)"),
]


@pytest.mark.parametrize(("text", "line", "message"), POLICY_ERRORS)
def test_config_check_names_file_and_line(capsys, tmp_path, text, line, message):
    path = write(tmp_path / "mlops-ci.yml", text)
    code = main(["config", "check", "--config", path])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {path}:{line}: "), err
    assert message in err
    assert err.count("\n") == 1


def test_policy_section_rejects_a_bad_pattern():
    with pytest.raises(MlopsCiError, match=r"policy.work_item.patterns\[0\]: invalid regular expression"):
        sections.policy_section({"work_item": {"patterns": ["("]}}, source="x.yml")


def test_recursive_aliases_and_odd_keys_have_lines():
    _, lines = yamlfile.parse("a: &a [*a]\n1: x\n", "c.yml")
    assert lines == {(): 1, ("a",): 1, ("a", 0): 1, (1,): 2}
    error = parse_error("a: &a [*a]\n1: x\n")
    assert (error.line, error.message.split(":")[0]) == (2, "[1]")  # the first unknown key, by its text


# --- naming -------------------------------------------------------------------------------------

def test_naming_replaces_one_kind_and_keeps_the_others(tmp_path):
    path = write(tmp_path / "mlops-ci.yml",
                 "policy:\n  allow_hotfix_to_main: true\nnaming:\n  model: 'team-[a-z]+'\n")
    patterns = config.load(path).naming
    assert naming.check("model", "team-churn", patterns) is None
    problem = naming.check("model", "churn", patterns)
    assert problem is not None and "e.g." not in problem  # no default example for a custom pattern
    assert "experiment" not in patterns and naming.check("experiment", "churn-baseline", patterns) is None


def test_missing_naming_means_the_defaults(tmp_path):
    assert config.load(repo=tmp_path / "absent").naming == {}


@pytest.mark.parametrize(("text", "expected", "line"), [
    ("naming:\n  models: 'x'\n", "naming.models: unknown key (allowed: dataset, experiment, model)", 2),
    ("naming:\n  model: ''\n", "naming.model", 2),
    ("naming:\n  model: '(['\n", "naming.model: invalid regular expression", 2),
    ("naming: [\n", "malformed YAML", 2),
])
def test_naming_errors_name_the_key(tmp_path, text, expected, line):
    path = write(tmp_path / "mlops-ci.yml", text)
    with pytest.raises(MlopsCiError) as error:
        config.load(path)
    assert expected in str(error.value) and f"{path}:{line}: " in str(error.value)


# --- report -------------------------------------------------------------------------------------

def test_report_defaults_and_values():
    assert config.parse("", "c.yml").report == ReportConfig()
    assert config.parse("policy:\n  allow_hotfix_to_main: true\n", "c.yml").report == ReportConfig()
    loaded = config.parse("report:\n  lower_is_better: [val_loss, '*_ms']\n"
                          "  higher_is_better: [error_budget]\n  precision: 2\n  max_points: 10\n"
                          "  max_files: 0\n  max_chars: 5000\n"
                          "  informational: [epochs]\n", "c.yml").report
    assert loaded == ReportConfig(("val_loss", "*_ms"), ("error_budget",), 2, 10, 0, 5000, ("epochs",))
    assert isinstance(config.parse("report: {precision: 2.0}\n", "c.yml").report.precision, int)


# The single wording is jsonschema's (as for every other section): the hand-written messages of the
# report's own loader ("expected a whole number from 0 to 12", "expected a list of metric names",
# "expected a mapping") became the schema's.
@pytest.mark.parametrize("text, message, line", [
    ("report:\n  colour: red\n", "report.colour: unknown key (allowed: higher_is_better, informational, "
                                  "lower_is_better, max_chars, max_files, max_points, precision)", 2),
    ("report:\n  precision: -1\n", "report.precision: -1 is less than the minimum of 0", 2),
    ("report:\n  max_chars: 65536\n", "report.max_chars: 65536 is greater than the maximum of 65416", 2),
    ("report:\n  precision: true\n", "report.precision: True is not of type 'integer'", 2),
    ("report:\n  max_points: 2.5\n", "report.max_points: 2.5 is not of type 'integer'", 2),
    ("report:\n  lower_is_better: val_loss\n",
     "report.lower_is_better: 'val_loss' is not of type 'array'", 2),
    ("report:\n  higher_is_better: ['']\n", "report.higher_is_better[0]: '' should be non-empty", 2),
    ("report:\n  lower_is_better: [a]\n  higher_is_better: [a]\n",
     "report: 'a' is both lower_is_better and higher_is_better", 2),
    ("report:\n  informational: [a]\n  higher_is_better: [a]\n",
     "report: 'a' is both higher_is_better and informational", 2),
    ("report: [1]\n", "report: [1] is not of type 'object', 'null'", 1),
    ("- report\n", "top level: ['report'] is not of type 'object', 'null'", 1),
    ("report:\n  precision: [\n", "malformed YAML", 3),
])
def test_report_errors(text, message, line):
    error = parse_error(text)
    assert error.message.startswith(message)
    assert (error.where, error.line) == ("c.yml", line)


@pytest.mark.parametrize("name, path, lower", [
    ("accuracy", "", False), ("val_loss", "", True), ("train.loss", "", True), ("error_rate", "", True),
    ("rmse", "", True), ("MAE", "", True), ("latency_p95", "", True), ("f1", "", False),
    ("p95_ms", "", True), ("error_budget", "", False), ("score", "eval/metrics.json", True),
])
def test_direction(name, path, lower):
    report = ReportConfig(lower_is_better=("*_ms", "eval/*:score"), higher_is_better=("error_budget",))
    assert lower_is_better(report, name, path) is lower


# --- promotion ----------------------------------------------------------------------------------

def test_promotion_config(tmp_path):
    text = "policy: {}\npromotion:\n  gates: ['accuracy>=0.9']\n  alias: prod\n  copy_to: digits-prod\n"
    assert config.parse(text, "x.yml").promotion == PromotionConfig(("accuracy>=0.9",), "prod", "",
                                                                    "digits-prod")
    assert config.parse("", "x.yml").promotion == PromotionConfig()
    for bad, message in (("promotion: [1]", "is not of type 'object'"),
                         ("promotion: {gate: []}", "unknown key"),
                         ("promotion: {gates: accuracy}", "'accuracy' is not of type 'array'"),
                         ("promotion: {gates: [nope]}", "nope"),
                         ("promotion: {alias: ''}", "should be non-empty"),
                         ("promotion: [", "malformed YAML"),
                         ("- a list\n", "top level")):
        with pytest.raises(MlopsCiError, match=re.escape(message)):
            config.parse(bad, "x.yml")
    write(tmp_path / ".github" / "mlops-ci.yml", text)
    assert config.load().promotion.alias == "prod"
    (tmp_path / "latin1.yml").write_bytes(b"promotion: {alias: \xe9}\n")
    with pytest.raises(MlopsCiError, match="cannot read"):
        config.load("latin1.yml")


def test_an_invalid_gate_is_rejected_with_its_line():
    error = parse_error("promotion:\n  gates:\n    - accuracy>=0.9\n    - accuracy >> 0.9\n")
    assert (error.line, error.message) == (
        4, "promotion.gates[1]: 'accuracy >> 0.9': expected METRIC>=VALUE (or <=, >, <, ==), "
           "METRIC:no-regress[:TOLERANCE] or mcnemar[:ALPHA]")


@pytest.mark.parametrize("gate", ["accuracy>=0.9", " accuracy <= 1e-3 ", "eval.loss<0.5", "f1==1", "auc>.5",
                                  "accuracy:no-regress", "accuracy:no-regress:0.01", "mcnemar",
                                  "mcnemar:0.05",
                                  "nope", "accuracy>=", "accuracy>=x", ":no-regress", "mcnemar:", "a b>=1",
                                  "accuracy:no-regress:x", "mcnemar:0.05:1", "acc=0.9"])
def test_the_schema_accepts_the_gates_promote_parses(gate):
    """The schema's gate pattern and promote's parser are two spellings of one language."""
    try:
        promote.parse_gate(gate)
        parsed = True
    except MlopsCiError:
        parsed = False
    valid = config.schema()["$defs"]["gate"]
    assert jsonschema.Draft202012Validator(valid).is_valid(gate) is parsed


def test_promote_reads_the_config_file_once(tmp_path, monkeypatch):
    path = write(tmp_path / "mlops-ci.yml", "promotion: {gates: ['accuracy>=0.9']}\nreport: {precision: 2}\n")
    reads = []
    read = yamlfile.read
    monkeypatch.setattr(yamlfile, "read", lambda file: reads.append(file) or read(file))
    # --version without --model is refused right after the config is read, before MLflow is asked.
    assert main(["promote", "--version", "1", "--config", path]) == 2
    assert reads == [Path(path)]


# --- data_check, drift --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "line", "words"), [
    ("data_check:\n  table:\n    colums: {}\n", 3, "data_check.table.colums: unknown key"),
    ("data_check:\n  images:\n    min_per_class: 0\n", 3, "minimum"),
    ("data_check: [\n", 2, "malformed YAML"),
    ("drift:\n  psi: 0.2\n  p_value: 2\n", 3, "drift.p_value"),
])
def test_monitoring_sections_name_file_and_line(text, line, words):
    error = parse_error(text)
    assert error.line == line and words in str(error), str(error)


def test_a_section_error_names_the_value_under_it():
    text = "data_check:\n  table:\n    rules:\n      - price > 0\n      - weight > 0\n"
    loaded = config.parse(text, "c.yml")
    assert loaded.data_check.get("table", "rules") == ["price > 0", "weight > 0"]
    assert loaded.data_check.get("table", "duplicates", default=True) is True
    assert str(loaded.data_check.error("no column", "table", "rules", 1)) == \
        "c.yml:5: data_check.table.rules.1: no column"
    assert loaded.drift == sections.Section("drift", {}, "c.yml", loaded.drift.lines)


# --- `mlops-ci config check` --------------------------------------------------------------------

def test_config_check_exit_codes(capsys, tmp_path):
    assert main(["config", "check"]) == 0
    assert capsys.readouterr().out == "config: no .github/mlops-ci.yml: the built-in defaults apply\n"
    write(tmp_path / ".github" / "mlops-ci.yml", "report: {precision: 2}\n")
    assert main(["config", "check"]) == 0
    assert capsys.readouterr().out == "config: .github/mlops-ci.yml is valid\n"
    write(tmp_path / ".github" / "mlops-ci.yml", "report: {precision: 2}\nreprot: {}\n")
    assert main(["config", "check"]) == 2
    assert capsys.readouterr().err == (f"error: .github/mlops-ci.yml:2: reprot: unknown key "
                                       f"(allowed: {ALLOWED_SECTIONS})\n")
    assert main(["config", "check", "--config", "nope.yml"]) == 2
    assert capsys.readouterr().err == "error: nope.yml: no such config file\n"


# --- docs/users/config.md -----------------------------------------------------------------------

def test_config_md_is_fresh_and_lists_every_key():
    text = config_doc.markdown()
    assert (ROOT / config_doc.CONFIG_DOC).read_text(encoding="utf-8") == text, "run `mlops-ci reference`"
    for section in config.schema()["properties"]:
        assert f"## `{section}`" in text
    for key in ("policy.targets.<name>.from", "report.max_chars", "promotion.gates", "drift.p_value",
                "data_check.table.columns.<name>.nullable"):
        assert f"| `{key}` |" in text


# --- model ---------------------------------------------------------------------------------------

def test_the_model_section_is_read_with_its_defaults():
    loaded = config.parse("model:\n  name: digits\n  path: models/model.pt\n  flavor: pytorch\n", "c.yml")
    assert loaded.model == ModelConfig(name="digits", path="models/model.pt", flavor="pytorch")
    assert config.parse("policy: {}\n", "c.yml").model is None


@pytest.mark.parametrize(("text", "message"), [
    ("model: {name: m, path: p, flavor: pyfunc}\n", "c.yml:1: model.loader: required by flavor pyfunc"),
    ("model: {name: m, path: p, flavor: keras}\n", "c.yml:1: model.flavor: 'keras' is not one of"),
    ("model: {name: m, flavor: onnx}\n", "c.yml:1: model: 'path' is a required property"),
    ("model: {name: m, path: p, flavor: sklearn, loader: src.model}\n",
     "c.yml:1: model.loader: 'src.model' does not match"),
])
def test_a_model_section_that_cannot_load_a_model_is_refused(text, message):
    assert str(parse_error(text)).startswith(message)


# --- quality -------------------------------------------------------------------------------------

def test_the_quality_section_defaults_to_whole_mode_and_reads_the_new_code_thresholds():
    assert config.parse("policy: {}\n", "c.yml").quality == QualityConfig(mode="whole", new_code_coverage=80.0,
                                                                           new_code_pylint=100.0)
    loaded = config.parse("quality:\n  mode: new-code\n  new_code: {coverage: 90, pylint: 95.5}\n", "c.yml")
    assert loaded.quality == QualityConfig(mode="new-code", new_code_coverage=90.0, new_code_pylint=95.5)
    assert config.parse("quality:\n  mode: new-code\n", "c.yml").quality.new_code_coverage == 80.0


@pytest.mark.parametrize(("text", "message"), [
    ("quality:\n  mode: diff\n", "c.yml:2: quality.mode: 'diff' is not one of ['whole', 'new-code']"),
    ("quality:\n  new_code:\n    coverage: 120\n", "c.yml:3: quality.new_code.coverage: 120 is greater than"),
    ("quality:\n  new_code:\n    lines: 3\n", "c.yml:3: quality.new_code.lines: unknown key (allowed: coverage, pylint)"),
])
def test_a_quality_section_names_the_bad_key_and_its_line(text, message):
    assert str(parse_error(text)).startswith(message)
