"""`mlops-ci policy`: PR branch rules, branch names, work items, config, Actions output."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from mlops_ci.config import load
from mlops_ci.gitflow import policy as pol
from mlops_ci.cli import main

TICKET = "PROJ-1 add augmentation"


# Each test in an empty folder (no .github/mlops-ci.yml), outside Actions.
pytestmark = pytest.mark.usefixtures("empty_folder")



def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["policy", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_config(tmp_path: Path, text: str, name: str = "policy.yml") -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def write_event(tmp_path: Path, pull_request, name: str = "event.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"action": "opened", "number": 7, "pull_request": pull_request}),
                    encoding="utf-8")
    return str(path)


def pr_payload(base="main", head="develop", title=TICKET, body=None) -> dict:
    return {"number": 7, "title": title, "body": body, "base": {"ref": base, "sha": "a" * 40},
            "head": {"ref": head, "sha": "b" * 40, "label": f"org:{head}"}}


# --- base/head pairs ------------------------------------------------------------------------------

HOTFIX_CONFIG = "policy:\n  allow_hotfix_to_main: true\n"
RELEASE_CONFIG = "policy:\n  targets:\n    'release/*': [develop]\n    frozen: []\n"
TYPES_CONFIG = "policy:\n  branch_name:\n    types: [feature, fix]\n    max_length: 20\n"
OPEN_CONFIG = ("policy:\n  allow_hotfix_to_main: true\n  targets:\n    main: {require_work_item: false}\n"
               "    experiments: {from: ['exp/*'], require_work_item: false}\n")

PAIRS = [
    # (config, base, head, exit code, violated rules, expected text)
    (None, "main", "develop", 0, [], "allowed"),
    (None, "main", "feature/x", 1, ["source-branch"],
     "main accepts pull requests only from develop; open this PR against develop"),
    (None, "main", "hotfix/x", 1, ["source-branch"],
     "open this PR against develop (a repo that merges hotfixes straight into main sets "
     "policy.allow_hotfix_to_main"),
    (HOTFIX_CONFIG, "main", "hotfix/x", 0, [], "allowed"),
    (HOTFIX_CONFIG, "main", "develop", 0, [], "allowed"),
    (HOTFIX_CONFIG, "main", "hotfix/$(id)", 1, ["branch-name"], "the task name must start with a letter"),
    (HOTFIX_CONFIG, "main", "feature/x", 1, ["source-branch"],
     "main accepts pull requests only from develop or hotfix/*; open this PR against develop"),
    (None, "develop", "feature/x", 0, [], "allowed"),
    (None, "develop", "hotfix/fix-1", 0, [], "allowed"),
    (None, "develop", "bugfix/b", 0, [], "allowed"),
    (None, "develop", "main", 1, ["source-branch", "branch-name"],
     "develop accepts pull requests only from feature/*, hotfix/* or bugfix/*; open the PR from a branch "
     "matching feature/*, hotfix/* or bugfix/* (rename this one: git branch -m feature/<task-name>)"),
    (None, "develop", "random", 1, ["source-branch", "branch-name"], "it has no type"),
    (None, "develop", "feature/bad name", 1, ["branch-name"], "not ' '"),
    (None, "staging", "anything", 0, [], "allowed"),
    (None, "release/1.0", "develop", 0, [], "allowed"),
    (RELEASE_CONFIG, "release/1.0", "develop", 0, [], "allowed"),
    (RELEASE_CONFIG, "release/1.0", "feature/x", 1, ["source-branch"],
     "'release/1.0' accepts pull requests only from develop; open this PR against develop"),
    (RELEASE_CONFIG, "release/1.0", "random", 1, ["source-branch"],
     "open the PR from a branch matching develop\n"),
    (RELEASE_CONFIG, "frozen", "random", 1, ["source-branch"],
     "frozen accepts no pull requests; open this PR against another branch"),
    (RELEASE_CONFIG, "frozen", "feature/x", 1, ["source-branch"], "open this PR against develop"),
    (TYPES_CONFIG, "develop", "fix/x", 0, [], "allowed"),
    (TYPES_CONFIG, "develop", "bugfix/x", 1, ["source-branch", "branch-name"],
     "type 'bugfix' is not one of feature or fix"),
    (TYPES_CONFIG, "develop", "feature/" + "a" * 13, 1, ["branch-name"], "21 characters long, at most 20"),
    (OPEN_CONFIG, "main", "anything", 0, [], "allowed"),
    (OPEN_CONFIG, "experiments", "exp/1", 0, [], "allowed"),
    (OPEN_CONFIG, "experiments", "develop", 1, ["source-branch"], "open the PR from a branch matching exp/*"),
]


@pytest.mark.parametrize(("config", "base", "head", "code", "rules", "text"), PAIRS)
def test_base_head_pairs(  # pylint: disable=too-many-arguments,too-many-positional-arguments
        capsys, tmp_path, config, base, head, code, rules, text):
    args = ["check", "--base", base, "--head", head, "--title", "" if config == OPEN_CONFIG else TICKET]
    if config is not None:
        args += ["--config", write_config(tmp_path, config)]
    got, out, err = run(capsys, *args)
    assert got == code
    assert re.findall(r"^error: ([\w-]+):", err, re.MULTILINE) == rules
    assert text in out + err
    assert out.count("\n") == 1  # the final line
    assert ("allowed" if code == 0 else f"refused: {len(rules)} rule(s) violated") in out


def test_check_is_a_pure_function():
    policy = load().policy
    assert policy.source is None
    assert pol.check(policy, "develop", "feature/x", "PROJ-9", None) == []
    violations = pol.check(policy, "main", "feature/x")
    assert [v.rule for v in violations] == ["source-branch", "work-item"]
    assert violations[0] == pol.Violation("source-branch", "main accepts pull requests only from develop",
                                          "open this PR against develop")
    assert str(violations[0]) == "main accepts pull requests only from develop; open this PR against develop"
    results = pol.evaluate(policy, "main", "develop", "#1")
    assert [(r.rule, r.outcome) for r in results] == [("source-branch", "pass"), ("branch-name", "skip"),
                                                      ("work-item", "pass")]


def test_exact_target_wins_over_glob(tmp_path):
    policy = load(write_config(
        tmp_path, "policy:\n  targets:\n    'rel*': [x]\n    release: [develop]\n")).policy
    assert policy.rule_for("release").sources == ("develop",)
    assert policy.rule_for("rel-2").sources == ("x",)
    assert policy.rule_for("other") is None


def test_hotfix_opt_in_keeps_an_explicit_main_rule(tmp_path):
    policy = load(write_config(
        tmp_path, "policy:\n  allow_hotfix_to_main: true\n  targets:\n    main: [develop, 'hotfix/*']\n")).policy
    assert policy.rule_for("main").sources == ("develop", "hotfix/*")


# --- branch names ---------------------------------------------------------------------------------

GOOD_NAMES = ["feature/PROJ-123-add-augmentation", "bugfix/fix.io_v2", "hotfix/1.2.3", "feature/a",
              "feature/" + "a" * 92]
BAD_NAMES = [
    ("feature/", "no task name after 'feature/'"),
    ("feature//x", "empty segment"),
    ("/x", "empty segment"),
    ("feature/-x", "must start with a letter or a digit"),
    ("feature/.x", "must start with a letter or a digit"),
    ("feature/a/b?", "holds '/'"),
    ("feature/a/b?", "not '?'"),
    ("feature/$(id)", "not '$' '(' ')'"),
    ("feature/`x`", "must start with a letter or a digit"),
    ("feature/`x`", "not '`'"),
    ("feature/" + "a" * 93, "101 characters long, at most 100"),
    ("feature/x/", "ends with '/'"),
    ("chore/x", "type 'chore' is not one of feature, hotfix or bugfix"),
    ("Feature/x", "type 'Feature'"),
    ("add-augmentation", "it has no type"),
    ("", "the name is empty"),
    ("feature/a..b", "git does not allow"),
    ("feature/x.", "git does not allow"),
    ("feature/x.lock", "git does not allow"),
    ("feature/éclair", "must start with a letter or a digit"),
    ("feature/a\tb", "not '\\t'"),
    ("feature/x\n::error::pwned", "not '\\n' ':'"),
]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_good_branch_names(capsys, name):
    code, out, err = run(capsys, "branch-name", name)
    assert (code, err) == (0, "")
    assert out == "policy: 1 branch name(s) ok\n"


@pytest.mark.parametrize(("name", "reason"), BAD_NAMES)
def test_bad_branch_names(capsys, name, reason):
    code, out, err = run(capsys, "branch-name", name)
    assert code == 1
    assert reason in err
    assert "rename the branch to <type>/<task-name>" in err
    assert err.count("\n") == 1  # one line, whatever the name holds
    assert out == "policy: 1 of 1 branch name(s) refused\n"


def test_branch_names_several_and_main(capsys):
    code, out, err = run(capsys, "branch-name", "feature/ok", "develop", "bugfix/ok")
    assert code == 1
    assert "main and develop change only through pull requests" in err
    assert out == "policy: 1 of 3 branch name(s) refused\n"


def test_branch_name_uses_the_repo_config(capsys, tmp_path):
    write_config(tmp_path, "policy:\n  branch_name:\n    types: [task]\n", ".github/mlops-ci.yml")
    assert run(capsys, "branch-name", "task/x")[0] == 0
    code, _, err = run(capsys, "branch-name", "feature/x")
    assert code == 1 and "type 'feature' is not one of task" in err and "e.g. task/PROJ-123" in err


def test_long_names_are_cut_in_messages():
    violation = pol.check_branch_name(load().policy, "feature/" + "x" * 300)
    assert "x" * 300 not in violation.message and "...'" in violation.message


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo,
                   check=True, capture_output=True)


def test_branch_name_reads_the_current_branch(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    _git(repo, "init", "-q", "-b", "feature/PROJ-1-x")
    assert run(capsys, "branch-name") == (0, "policy: 1 branch name(s) ok\n", "")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "x")
    _git(repo, "switch", "-q", "-c", "develop")
    code, _, err = run(capsys, "branch-name")
    assert code == 1 and "branch name 'develop'" in err
    _git(repo, "switch", "-q", "--detach")
    assert run(capsys, "branch-name") == (0, "policy: HEAD is detached (no branch to check)\n", "")


def test_branch_name_outside_a_repository(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, _, err = run(capsys, "branch-name")
    assert code == 2 and err.startswith("error: cannot read the current branch: ")


def test_branch_name_without_git(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert run(capsys, "branch-name") == (2, "", "error: git is not installed\n")


# --- work items -----------------------------------------------------------------------------------

LINKED = [
    ("#123 fix loader", ""), ("Fix loader (#12)", ""), ("org/repo#12: fix", ""), ("PROJ-123 add", ""),
    ("[PROJ-123] add", ""), ("ML_OPS-7 add", ""), ("AB#123 add", ""), ("add", "Closes #4"),
    ("add", "See https://github.com/org/repo/issues/5"), ("add", "https://jira.example.com/browse/ML-7"),
    ("add", "https://dev.azure.com/org/proj/_workitems/edit/9"),
    ("add", "https://gitlab.com/g/p/-/issues/3"), ("add", "https://gitlab.com/g/p/-/work_items/3"),
    ("add", "https://linear.app/team/issue/ENG-12/slug"), ("add", "<!-- template --> PROJ-5"),
    ("add", "text\n#77 on its own line"), ("Ends with PROJ-123.", ""),
]
NOT_LINKED = [
    ("", ""), ("add augmentation", None), ("#abc", ""), ("C#", ""), ("Port to C# 7", ""), ("F#1", ""),
    ("fix deadbeef1234", "reverts 0a1b2c3d4e5f"), ("bump v1.2-3", ""), ("UTF-8 decoding", ""),
    ("use SHA-256", ""), ("ISO-8601 dates", ""), ("GPT-4 prompts", ""), ("CVE-2024-1234 backport", ""),
    ("release ABC-1.2", ""), ("html &#123; entity", ""), ("issue#12", ""), ("proj-123 lower case", ""),
    ("X-1 one-letter key", ""), ("add", "https://github.com/org/repo/pull/5"),
    ("add", "https://github.com/org/repo/issues/"), ("add", "<!-- Link the ticket, e.g. PROJ-123 or #1 -->"),
    ("add", "<!-- unterminated PROJ-123"),
]


@pytest.mark.parametrize(("title", "body"), LINKED)
def test_work_item_linked(title, body):
    policy = load().policy
    assert pol.check(policy, "staging", "anything", title, body) == []
    assert pol.find_work_item(policy, title, body) is not None


@pytest.mark.parametrize(("title", "body"), NOT_LINKED)
def test_work_item_missing(capsys, tmp_path, title, body):
    args = ["check", "--base", "staging", "--head", "anything", "--title", title]
    if body:
        args += ["--body-file", write_config(tmp_path, body, "body.md")]
    code, _, err = run(capsys, *args)
    assert code == 1
    assert err == ("error: work-item: the PR title and description link no work item; add the ticket to the "
                   "title or description: #123, PROJ-123, AB#123 or the issue URL\n")


def test_work_item_found_where():
    policy = load().policy
    assert pol.find_work_item(policy, "PROJ-1 x", "#2") == ("title", "PROJ-1")
    assert pol.find_work_item(policy, "x", "see AB#9") == ("description", "AB#9")


def test_work_item_custom_patterns(capsys, tmp_path):
    config = write_config(tmp_path, "policy:\n  work_item:\n    patterns: ['\\bTKT\\d+\\b']\n")
    assert run(capsys, "check", "--base", "x", "--head", "y", "--title", "TKT42", "--config", config)[0] == 0
    code, _, err = run(capsys, "check", "--base", "x", "--head", "y", "--title", "PROJ-1", "--config", config)
    assert code == 1 and f"matching policy.work_item.patterns ({config})" in err


def test_work_item_not_required(capsys, tmp_path):
    config = write_config(tmp_path, "policy:\n  work_item:\n    required: false\n")
    code, out, err = run(capsys, "check", "--base", "develop", "--head", "feature/x", "--config", config)
    assert (code, err) == (0, "") and "allowed" in out


# --- hostile input --------------------------------------------------------------------------------

HOSTILE = [
    "`touch pwned` PROJ-1", "$(touch pwned) PROJ-1", "PROJ-1\n::error::injected", "PROJ-1\r\n::warning::x",
    "::error file=x,line=1::fake PROJ-1", "%0A::error::x PROJ-1", "PROJ-1 | col | `code` <b>x</b>",
]


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_are_data(capsys, tmp_path, actions, title):
    body = write_config(tmp_path, title + "\n$(id) `id` ${{ github.token }}", "body.md")
    code, out, _ = run(capsys, "check", "--base", "develop", "--head", "feature/x", "--title", title,
                       "--body-file", body)
    assert code == 0 and "allowed" in out
    assert not (tmp_path / "pwned").exists()
    assert not [line for line in out.splitlines() if line.startswith("::")]  # no violation, no command
    summary = actions.read_text(encoding="utf-8")
    assert "injected" not in summary and "touch" not in summary


HOSTILE_HEADS = [
    "feature/x\n::error::pwned", "feature/x\r::error::pwned", "feature/x%0A::error::pwned",
    "feature/`id`|x", "feature/$(id)", "feature/x::error title=a::b",
]


@pytest.mark.parametrize("head", HOSTILE_HEADS)
def test_hostile_branch_names_cannot_start_a_workflow_command(capsys, tmp_path, actions, head):
    event = write_event(tmp_path, pr_payload(base="develop", head=head, title="PROJ-1\n::error::t"))
    code, out, err = run(capsys, "check", "--event", event)
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert len(lines) == 2  # one annotation, one final line: the name cannot add a line
    assert lines[0].startswith("::error title=branch-name::branch name 'feature/")
    assert not lines[1].startswith("::")
    assert "\r" not in out
    if "%0A" in head:
        assert "%250A" in lines[0]  # the runner decodes this to the text %0A, not a newline
    # The summary: every table row keeps three cells, and no backtick opens a code span.
    summary = actions.read_text(encoding="utf-8")
    rows = [line for line in summary.splitlines() if line.startswith("|")]
    assert len(rows) == 2 + 4
    assert all(len(re.split(r"(?<!\\)\|", row)) == 5 for row in rows)
    assert not re.search(r"(?<!\\)`", summary)
    assert "\r" not in summary and not [line for line in summary.splitlines() if line.startswith("::")]


def test_markdown_escape():
    assert pol.md_escape("a|b`c\nd <i>&*_[x]~\\") == "a\\|b\\`c d &lt;i&gt;&amp;\\*\\_\\[x\\]\\~\\\\"
    assert pol.show("a\nb\x1b") == "'a\\nb\\x1b'"


# --- --event payloads -----------------------------------------------------------------------------

def test_event_allowed_with_null_body(capsys, tmp_path):
    event = write_event(tmp_path, pr_payload(body=None))
    assert run(capsys, "check", "--event", event) == (
        0, "policy: pull request 'develop' -> 'main' allowed\n", "")


def test_event_body_links_the_work_item(capsys, tmp_path):
    event = write_event(tmp_path, pr_payload(base="develop", head="feature/x", title=None, body="Fixes #9"))
    assert run(capsys, "check", "--event", event)[0] == 0


def test_event_refused(capsys, tmp_path):
    event = write_event(tmp_path, pr_payload(head="feature/x", title="no ticket", body=""))
    code, _, err = run(capsys, "check", "--event", event)
    assert code == 1
    assert re.findall(r"^error: ([\w-]+):", err, re.MULTILINE) == ["source-branch", "work-item"]


@pytest.mark.parametrize(("payload", "message"), [
    ({"action": "push"}, "not a pull_request event: no pull_request object"),
    ([1, 2], "not a pull_request event"),
    ({"pull_request": {"head": {"ref": "x"}}}, "pull_request.base.ref: expected a non-empty string"),
    ({"pull_request": {"base": "main", "head": {"ref": "x"}}}, "pull_request.base.ref"),
    ({"pull_request": {"base": {"ref": ""}, "head": {"ref": "x"}}}, "pull_request.base.ref"),
    ({"pull_request": {"base": {"ref": "main"}, "head": {"ref": 5}}}, "pull_request.head.ref"),
    ({"pull_request": {"base": {"ref": "m"}, "head": {"ref": "x"}, "title": ["t"]}},
     "pull_request.title: expected a string"),
    ({"pull_request": {"base": {"ref": "m"}, "head": {"ref": "x"}, "body": 3}}, "pull_request.body"),
])
def test_event_payload_errors(capsys, tmp_path, payload, message):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    code, out, err = run(capsys, "check", "--event", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {path}: ") and message in err


def test_event_file_errors(capsys, tmp_path):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{\n  "pull_request": {\n    oops\n', encoding="utf-8")
    code, _, err = run(capsys, "check", "--event", str(bad_json))
    assert code == 2 and err.startswith(f"error: {bad_json}:3: not a JSON event payload")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe")
    assert run(capsys, "check", "--event", str(binary))[0] == 2
    code, _, err = run(capsys, "check", "--event", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read the event: No such file or directory" in err


def test_event_excludes_the_other_options(capsys, tmp_path):
    event = write_event(tmp_path, pr_payload())
    code, _, err = run(capsys, "check", "--event", event, "--base", "main", "--title", "x")
    assert code == 2 and err == "error: --event replaces --base, --title: give one or the other\n"


@pytest.mark.parametrize("argv", [[], ["--base", "main"], ["--head", "x"], ["--base", "", "--head", "x"]])
def test_check_needs_base_and_head(capsys, argv):
    code, _, err = run(capsys, "check", *argv)
    assert code == 2 and "needs --base BRANCH and --head BRANCH, or --event FILE" in err


def test_body_file_errors(capsys, tmp_path):
    code, _, err = run(capsys, "check", "--base", "a", "--head", "b", "--body-file", str(tmp_path / "no.md"))
    assert code == 2 and "cannot read the PR description" in err
    binary = tmp_path / "body.md"
    binary.write_bytes(b"\xff\xfe\x00")
    code, _, err = run(capsys, "check", "--base", "a", "--head", "b", "--body-file", str(binary))
    assert code == 2 and "not UTF-8 text" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["policy"])
    assert exited.value.code == 2
    assert "SUBCOMMAND" in capsys.readouterr().err


# --- config ---------------------------------------------------------------------------------------

def test_repo_config_is_used_when_present(capsys, tmp_path):
    write_config(tmp_path, HOTFIX_CONFIG, ".github/mlops-ci.yml")
    assert run(capsys, "check", "--base", "main", "--head", "hotfix/x", "--title", TICKET)[0] == 0


@pytest.mark.parametrize("text", ["", "# nothing\n", "policy:\n", "report:\n  precision: 2\npolicy: {}\n",
                                  "naming: {model: x}\n"])
def test_config_without_rules_means_defaults(capsys, tmp_path, text):
    config = write_config(tmp_path, text)
    assert run(capsys, "check", "--base", "main", "--head", "feature/x", "--title", TICKET,
               "--config", config)[0] == 1
    assert run(capsys, "check", "--base", "main", "--head", "develop", "--title", TICKET,
               "--config", config)[0] == 0


def test_config_error_in_actions_is_an_annotation(capsys, tmp_path, actions):
    config = write_config(tmp_path, "policy:\n  colour: red\n", "mlops-ci.yml")
    code, out, _ = run(capsys, "check", "--base", "main", "--head", "develop", "--config", config)
    assert code == 2
    assert out.startswith(f"::error file={config},line=2::policy.colour: unknown key")
    assert not actions.exists()


def test_missing_config_file(capsys, tmp_path):
    code, _, err = run(capsys, "check", "--base", "main", "--head", "develop", "--config", "nope.yml")
    assert (code, err) == (2, "error: nope.yml: no such config file\n")
    assert run(capsys, "branch-name", "feature/x", "--config", str(tmp_path))[0] == 2  # a folder


# --- inside GitHub Actions ------------------------------------------------------------------------

def test_actions_annotations_and_summary(capsys, actions):
    code, out, err = run(capsys, "check", "--base", "main", "--head", "feature/x", "--title", "no ticket")
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines == [
        "::error title=source-branch::main accepts pull requests only from develop; "
        "open this PR against develop",
        "::error title=work-item::the PR title and description link no work item; add the ticket to the "
        "title or description: #123, PROJ-123, AB#123 or the issue URL",
        "policy: pull request 'feature/x' -> 'main' refused: 2 rule(s) violated",
    ]
    summary = actions.read_text(encoding="utf-8")
    assert "### branch-policy: ❌ 2 rule(s) violated" in summary
    assert "**base:** 'main' ← **head:** 'feature/x'" in summary
    assert "**config:** built-in defaults" in summary
    assert "| rule | result | detail |" in summary
    assert "| source-branch | ❌ fail | main accepts pull requests only from develop; open this PR against " \
           "develop |" in summary
    assert "| branch-name | ➖ skip | not checked for 'feature/x' into 'main' |" in summary
    assert "| work-item | ❌ fail |" in summary
    assert "| approvals | ➖ not checked here | enforced by branch protection (1 required) |" in summary


def test_actions_summary_when_allowed(capsys, tmp_path, actions):
    config = write_config(tmp_path, "policy:\n  targets:\n    sandbox: {require_work_item: false}\n")
    assert run(capsys, "check", "--base", "develop", "--head", "feature/x", "--title", "AB#5",
               "--config", config)[:2] == (0, "policy: pull request 'feature/x' -> 'develop' allowed\n")
    assert run(capsys, "check", "--base", "sandbox", "--head", "x", "--config", config)[0] == 0
    summary = actions.read_text(encoding="utf-8")
    assert summary.count("### branch-policy: ✅ allowed") == 2
    assert f"**config:** {pol.md_escape(config)}" in summary
    assert "| branch-name | ✅ pass | 'feature/x' is &lt;type&gt;/&lt;task-name&gt; |" in summary
    assert "| work-item | ✅ pass | 'AB#5' in the title |" in summary
    assert "| source-branch | ✅ pass | 'sandbox' accepts pull requests from 'x' |" in summary
    assert "| work-item | ➖ skip | not required for pull requests into 'sandbox' |" in summary


def test_actions_branch_name_annotations(capsys, actions):
    code, out, _ = run(capsys, "branch-name", "feature/ok", "nope")
    assert code == 1
    assert out.splitlines()[0].startswith("::error title=branch-name::branch name 'nope': it has no type")
    assert not actions.exists()
