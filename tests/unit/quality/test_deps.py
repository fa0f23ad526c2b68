"""`mlops-ci deps check`: pinned and unpinned pip/conda requirements, includes, constraints, errors,
the example project and the Actions output."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

from mlops_ci.quality.deps import conda, pip, records, rules
from mlops_ci.cli import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "image-classifier"
SHA = "0123456789abcdef" * 2 + "01234567"  # 40 hex digits
SHA256 = "ab" * 32
REPO = "https://github.com/acme/tool.git"
# What `installed_version` answers in these tests (the real one is tested on its own).
INSTALLED = {"numpy": "2.4.6", "pkg": "1.0.0"}
PY = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Run in an empty folder, outside Actions, with a known set of installed packages."""
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(rules, "installed_version", INSTALLED.get)



def write(files: dict[str, str]) -> None:
    for name, text in files.items():
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def run(capsys, *files: str) -> tuple[int, str, list[str]]:
    code = main(["deps", "check", *files])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.splitlines()


def req(text: str) -> dict[str, str]:
    return {"requirements.txt": text}


def env(text: str) -> dict[str, str]:
    return {"environment.yml": "name: demo\nchannels: [conda-forge]\ndependencies:\n" + text}


# --- the table ------------------------------------------------------------------------------------
# (files, FILE arguments, exit code, expected error lines: each "file:line: text" must start the
#  matching line after "error: ", in order, and no other error lines may appear)

R = ["requirements.txt"]
E = ["environment.yml"]

CASES = {
    # pinned pip forms
    "exact": (req("numpy==1.26.4\n"), R, 0, []),
    "arbitrary equality": (req("torch===2.0.0+cpu\n"), R, 0, []),
    "local version": (req("torch==2.13.0+cpu\n"), R, 0, []),
    "extras": (req("pkg[gpu,cli]==1.0\n"), R, 0, []),
    "marker": (req('pkg==1.0; python_version < "3.12"\n'), R, 0, []),
    "extras and marker": (req('pkg[gpu] == 1.0 ; sys_platform == "linux"\n'), R, 0, []),
    "old parenthesized form": (req("pkg (==1.0)\n"), R, 0, []),
    "comments, blanks, index options": (req(
        "# pinned\n\n   # indented comment\n-i https://pypi.org/simple\n--index-url=https://x/simple\n"
        "--extra-index-url https://y/simple\n-f ./wheels\n--find-links=https://z/\n--no-index\n--pre\n"
        "--trusted-host x\n--prefer-binary\n--only-binary :all:\n--no-binary=pkg\n--require-hashes\n"
        "--use-feature truststore\nnumpy==1.26.4  # inline comment\n"), R, 0, []),
    "hashes with continuation lines": (req(
        f"requests==2.31.0 \\\n    --hash=sha256:{SHA256} \\\n    --hash=sha512:{'cd' * 64}\n"
        f"idna==3.6 --hash sha256:{SHA256}\n"), R, 0, []),
    "per-requirement options": (req(
        "pkg==1.0 --config-settings editable_mode=compat --global-option=x -C k=v\n"), R, 0, []),
    # unpinned pip forms
    "no version": (req("numpy\n"), R, 1,
                   ["requirements.txt:1: numpy: no version (fix: pin it: numpy==2.4.6 (installed here))"]),
    "no version, not installed": (req("scipy\n"), R, 1,
                                  ["requirements.txt:1: scipy: no version (fix: pin it, e.g. scipy==X.Y.Z)"]),
    "ranges": (req("a>=1.0\nb>1\nc<2\nd<=2\ne!=1.5\nf~=1.4\ng>=1,<2\nh==1.0,!=1.1\n"), R, 1,
               ["requirements.txt:1: a: a range (>=1.0)", "requirements.txt:2: b: a range (>1)",
                "requirements.txt:3: c: a range (<2)", "requirements.txt:4: d: a range (<=2)",
                "requirements.txt:5: e: a range (!=1.5)", "requirements.txt:6: f: a range (~=1.4)",
                "requirements.txt:7: g: a range (<2,>=1)", "requirements.txt:8: h: a range"]),
    "wildcard": (req("pandas==2.*\n"), R, 1,
        ["requirements.txt:1: pandas: a wildcard (==2.*) is a range (fix: pin it, e.g. pandas==X.Y.Z)"]),
    "extras unpinned": (req("pkg[gpu]>=1\n"), R, 1,
        ["requirements.txt:1: pkg: a range (>=1) (fix: pin it: pkg[gpu]==1.0.0 (installed here))"]),
    "marker unpinned": (req('pkg; python_version < "3.12"\n'), R, 1, ["requirements.txt:1: pkg: no version"]),
    "hash without a version": (req(f"flask --hash=sha256:{SHA256}\n"), R, 1,
                               ["requirements.txt:1: flask: no version (a --hash needs == to be checked)"]),
    "every violation, lines of continued requirements": (req(
        f"numpy==1.26.4 \\\n  --hash=sha256:{SHA256}\nflask \\\n  --hash=sha256:{SHA256}\n# x\nscipy\n"),
        R, 1, ["requirements.txt:3: flask: no version", "requirements.txt:6: scipy: no version"]),
    # local paths
    "local paths": (req(
        "-e .\n-e ./lib[dev]\n--editable=../other\n-e sibling\n./pkg\n../pkg\n/abs/pkg\nsub/dir\n"
        "dist/pkg-1.0-py3-none-any.whl\n./pkg[extra]\nfile:///tmp/pkg\nfile:../pkg\n"
        "pkg @ file:///tmp/pkg-1.0.tar.gz\n-e file:///tmp/editable\n"), R, 0, []),
    # VCS
    "vcs at a full sha": (req(
        f"git+{REPO}@{SHA}#egg=tool\ntool2 @ git+{REPO}@{SHA}\n-e git+{REPO}@{SHA}#egg=tool3\n"
        f"git+ssh://git@github.com/acme/tool4.git@{SHA}\ngit+{REPO}@{'a' * 64}#egg=tool5\n"
        f"hg+https://hg.example.org/repo@{SHA}#egg=hgtool\n"
        "svn+https://svn.example.org/repo@2019#egg=svntool\n"
        f"bzr+https://bzr.example.org/repo@17#egg=bzrtool\n"), R, 0, []),
    "vcs at a branch": (req(f"git+{REPO}@main#egg=tool\n"), R, 1,
        [f"requirements.txt:1: tool: a git URL at 'main', not a full commit SHA (a branch or tag "
         f"can move) (fix: pin a full commit SHA: git+{REPO}@<40-hex sha>#egg=tool "
         f"(git ls-remote {REPO} main))"]),
    "vcs at a tag, short sha, none": (req(
        f"tool @ git+{REPO}@v1.2.0\n-e git+{REPO}@{SHA[:7]}#egg=tool2\ngit+{REPO}\n"
        "git+ssh://git@github.com/acme/other.git@dev\n"), R, 1,
        ["requirements.txt:1: tool: a git URL at 'v1.2.0'",
         "requirements.txt:2: tool2: a git URL at '0123456'",
         "requirements.txt:3: tool: a git URL with no revision (it installs whatever the default branch "
         "holds)",
         "requirements.txt:4: other: a git URL at 'dev', not a full commit SHA (a branch or tag can move) "
         "(fix: pin a full commit SHA: git+ssh://git@github.com/acme/other.git@<40-hex sha>#egg=other"]),
    "hg and svn without a fixed revision": (req(
        "hg+https://hg.example.org/repo@default#egg=hgtool\nsvn+https://svn.example.org/repo#egg=svntool\n"),
        R, 1, ["requirements.txt:1: hgtool: an hg URL at 'default', not a full changeset id",
               "requirements.txt:2: svntool: an svn URL with no revision (it installs whatever the default "
               "branch holds) (fix: pin a revision: "
               "svn+https://svn.example.org/repo@<revision>#egg=svntool)"]),
    # direct URLs
    "url archives with a version and a hash": (req(
        f"x @ https://e.com/x-1.0-py3-none-any.whl#sha256={SHA256}\n"
        f"y @ https://e.com/files/y-2.1.tar.gz --hash=sha256:{SHA256}\n"
        f"https://e.com/w-2.0.tar.bz2 --hash=sha384:{'ef' * 48}\n"
        f"https://e.com/v-3.0.zip#egg=v&sha512={'01' * 64} ; python_version > \"3\"\n"), R, 0, []),
    "url without a hash or a version": (req(
        "y @ https://e.com/y-1.0.tar.gz\nz @ https://github.com/acme/z/archive/main.zip --hash=sha256:aa\n"
        "https://e.com/pkg.whl#md5=abc\nq @ https://e.com/q-notaversion.tar.gz#sha256=aa\n"
        "r @ https://e.com/download\n"), R, 1,
        ["requirements.txt:1: y: a URL without a hash (the file behind it can change) (fix: add "
         "--hash=sha256:<digest>",
         "requirements.txt:2: z: a URL whose file name carries no version (fix: point at a release file",
         "requirements.txt:3: pkg.whl: a URL whose file name carries no version",
         "requirements.txt:4: q: a URL whose file name carries no version",
         "requirements.txt:5: r: a URL whose file name carries no version"]),
    # includes
    "includes, relative to the including file": ({
        "requirements.txt": "-r reqs/base.txt\nflask==3.0.0\n",
        "reqs/base.txt": "--requirement=more/extra.txt\nnumpy==1.26.4\n-r../reqs/dev.txt\n",
        "reqs/more/extra.txt": "# nested twice\n\nscipy>=1\n",
        "reqs/dev.txt": "pytest\n-r more/extra.txt\n"}, R, 1,
        ["reqs/more/extra.txt:3: scipy: a range (>=1)", "reqs/dev.txt:1: pytest: no version"]),
    "include cycle": ({"requirements.txt": "-r a.txt\n", "a.txt": "x==1\n-r sub/b.txt\n",
                       "sub/b.txt": "-r ../a.txt\n"}, R, 2,
                      ["sub/b.txt:1: include cycle: requirements.txt -> a.txt -> sub/b.txt -> a.txt"]),
    "self include": ({"requirements.txt": "x==1\n-r requirements.txt\n"}, R, 2,
                     ["requirements.txt:2: include cycle: requirements.txt -> requirements.txt"]),
    "missing include": ({"requirements.txt": "x==1\n-r nothere.txt\n"}, R, 2,
                        ["requirements.txt:2: cannot read -r nothere.txt: no such file"]),
    "missing constraints file": ({"requirements.txt": "-c nothere.txt\n"}, R, 2,
                                 ["requirements.txt:1: cannot read -c nothere.txt: no such file"]),
    "remote includes": (req("-r https://e.com/reqs.txt\n-c https://e.com/constraints.txt\n"), R, 1,
        ["requirements.txt:1: -r https://e.com/reqs.txt: a remote requirements file can change",
         "requirements.txt:2: -c https://e.com/constraints.txt: a remote constraints file can"]),
    # constraints
    "constraints pin requirements": ({
        "requirements.txt": "-c constraints.txt\nnumpy\nscipy>=1\npandas\nflask\n"
                            "torch; python_version > '3'\n"
                            "Pillow[extra]>=10\n",
        "constraints.txt": "numpy==1.26.4\nscipy>=1.2\npandas==2.0; python_version < '3.12'\nflask\n"
                           "torch==2.0; python_version > \"3\"\npillow===10.0.0\nunused>=3\n-e ./local\n"},
        R, 1, ["requirements.txt:3: scipy: a range (>=1)", "requirements.txt:4: pandas: no version",
               "requirements.txt:5: flask: no version"]),
    "constraints from an included file": ({
        "requirements.txt": "-r base.txt\nnumpy\n", "base.txt": "-c pins/constraints.txt\n",
        "pins/constraints.txt": "numpy==1.26.4\n-c more.txt\n-r reqs.txt\n",
        "pins/more.txt": "scipy==1.11.4\n", "pins/reqs.txt": "scipy\n"}, R, 0, []),
    # conda
    "conda pinned forms": (env(
        "  - python=3.11\n  - numpy=1.26.4\n  - pandas==2.0\n  - readline=8.2=h5eee18b_0\n"
        "  - openssl 3.0.13 h7f8727e_0\n  - zlib 1.2.13\n  - tzdata=2024a\n  - conda-forge::scipy=1.11.4\n"
        "  - pkgs/main/linux-64::libffi=3.4.4\n  - liby[version='1.2.3']\n"
        "  - libz [build=h1, version=\"2.0.1\"]\n"
        "  - _libgcc_mutex=0.1=conda_forge\n  - blas=2.0=*mkl\n  - python==3.11.7\n"), E, 0, []),
    "conda unpinned forms": (env(
        "  - numpy\n  - scipy=1.11\n  - python=3\n  - python\n  - mkl>=2023\n  - numba=0.58.*\n"
        "  - blas=*=mkl\n  - conda-forge::pandas\n  - libx[version='>=1']\n  - tbb 2021.*\n"
        "  - pyarrow 14|15\n"
        "  - cudnn=8\n  - jax >=0.4,<0.5\n"), E, 1,
        ["environment.yml:4: numpy: no version (fix: pin it: numpy=2.4.6 (installed here))",
         "environment.yml:5: scipy: conda reads =1.11 as 1.11.* (fix: give the full version "
         "(scipy=X.Y.Z) or an exact match (scipy==1.11))",
         "environment.yml:6: python: conda reads =3 as 3.*",
         f"environment.yml:7: python: no version (fix: pin it: python={PY} (the interpreter here))",
         "environment.yml:8: mkl: a range (>=2023) (fix: pin it, e.g. mkl=X.Y.Z)",
         "environment.yml:9: numba: a wildcard (=0.58.*) is a range",
         "environment.yml:10: blas: a wildcard (=*=mkl) is a range",
         "environment.yml:11: pandas: no version",
         "environment.yml:12: libx: a range (>=1)",
         "environment.yml:13: tbb: a wildcard (2021.*) is a range",
         "environment.yml:14: pyarrow: a range (14|15)",
         "environment.yml:15: cudnn: conda reads =8 as 8.*",
         "environment.yml:16: jax: a range (>=0.4,<0.5)"]),
    "conda pip section": ({
        "env/environment.yaml": "dependencies:\n  - python=3.11\n  - pip=23.2.1\n  - pip:\n"
                                "      - numpy==1.26.4\n      - scipy>=1   # a comment\n"
                                "      - -r ../requirements.txt\n"
                                f"      - git+{REPO}@main#egg=tool\n"
                                "  - pip: []\n  - pip:\n",
        "requirements.txt": "flask\n"}, ["env/environment.yaml"], 1,
        ["env/environment.yaml:6: scipy: a range (>=1)", "requirements.txt:1: flask: no version",
         "env/environment.yaml:8: tool: a git URL at 'main'"]),
    "conda empty dependencies": ({"environment.yml": "name: x\ndependencies:\n"}, E, 0, []),
    # malformed files: exit 2, file:line and the problem
    "missing file": ({}, ["nothere.txt"], 2, ["nothere.txt: cannot read: no such file"]),
    "a directory": ({"dir/x.txt": ""}, ["dir"], 2, ["dir: cannot read: Is a directory"]),
    "not UTF-8": ({}, ["latin1.txt"], 2, ["latin1.txt: cannot read: not UTF-8 text"]),
    "malformed requirement": (req("numpy==1.0\nnumpy>=1.0 foo\n"), R, 2,
                              ["requirements.txt:2: not a requirement: 'numpy>=1.0 foo': Expected comma"]),
    "malformed named url": (req("pkg @ \n"), R, 2, ["requirements.txt:1: not a requirement: 'pkg @'"]),
    "unknown option": (req("--bogus x\n"), R, 2, ["requirements.txt:1: unknown option '--bogus'"]),
    "option without value": (req("-r\n"), R, 2, ["requirements.txt:1: -r needs a value"]),
    "flag with a value": (req("--pre=yes\n"), R, 2, ["requirements.txt:1: --pre takes no value"]),
    "stray text among options": (req("-i https://x extra\n"), R, 2,
                                 ["requirements.txt:1: unexpected 'extra' among the options"]),
    "global option after a requirement": (req("pkg==1.0 --index-url https://x\n"), R, 2,
                                          ["requirements.txt:1: --index-url cannot follow a requirement"]),
    "weak hash": (req("pkg==1.0 --hash=md5:abc\n"), R, 2,
                  ["requirements.txt:1: --hash='md5:abc': expected ALGORITHM:HEX"]),
    "hash alone": (req("-i https://x --hash=sha256:aa\n"), R, 2,
                   ["requirements.txt:1: --hash, --config-settings and --global-option need a requirement"]),
    "unbalanced quote": (req('-r "a.txt\n'), R, 2,
                         ["requirements.txt:1: cannot split the options: No closing quotation"]),
    "unsupported scheme": (req("s3://bucket/pkg-1.0.whl\n"), R, 2,
                           ["requirements.txt:1: unsupported URL scheme 's3'"]),
    "editable archive url": (req("-e https://e.com/x-1.0.zip\n"), R, 2,
        ["requirements.txt:1: -e 'https://e.com/x-1.0.zip': -e takes a local path or a VCS"]),
    "malformed YAML": ({"environment.yml": "name: x\ndependencies:\n  - numpy=1\n - [\n"}, E, 2,
                       ["environment.yml:4: malformed YAML:"]),
    "YAML control character": ({"environment.yml": "name: x\n\x07\n"}, E, 2,
        ["environment.yml:2: malformed YAML: special characters are not allowed (U+0007)"]),
    "YAML with two documents": ({"environment.yml": "dependencies: []\n---\nx: 1\n"}, E, 2,
                                ["environment.yml:2: malformed YAML: but found another document"]),
    "YAML without dependencies": ({"environment.yml": "name: x\nchannels: [conda-forge]\n"}, E, 2,
        ["environment.yml:1: no dependencies: list (not a conda environment file)"]),
    "empty YAML": ({"environment.yml": ""}, E, 2,
                   ["environment.yml: no dependencies: list (not a conda environment file)"]),
    "YAML list": ({"environment.yml": "- numpy\n"}, E, 2, ["environment.yml:1: no dependencies: list"]),
    "dependencies not a list": ({"environment.yml": "dependencies: numpy\n"}, E, 2,
                                ["environment.yml:1: dependencies: expected a list"]),
    "dependency not a string": (env("  - 3.11\n"), E, 2,
        ["environment.yml:4: dependencies: expected a package spec (a string) or a pip:"]),
    "mapping other than pip": (env("  - npm: [x]\n"), E, 2,
                               ["environment.yml:4: dependencies: the only mapping conda reads is pip:"]),
    "pip section not a list": (env("  - pip: numpy\n"), E, 2,
                               ["environment.yml:4: pip: expected a list of requirement strings"]),
    "pip entry not a string": (env("  - pip:\n      - 1.0\n"), E, 2,
                               ["environment.yml:5: pip: expected a requirement string"]),
    "malformed pip entry": (env("  - pip:\n      - numpy=1.26\n"), E, 2,
                            ["environment.yml:5: not a requirement: 'numpy=1.26'"]),
    "malformed conda spec": (env("  - numpy@1.0\n"), E, 2,
        ["environment.yml:4: not a conda package spec: 'numpy@1.0': cannot read '@1.0' after"]),
    "conda spec with quotes": (env("  - \"numpy=1'0\"\n"), E, 2,
        ["environment.yml:4: not a conda package spec: 'numpy=1'0': cannot read the version '=1'0'"]),
    "conda spec without a name": (env("  - '=1.0'\n"), E, 2,
                                  ["environment.yml:4: not a conda package spec: '=1.0': expected NAME"]),
    "conda spec, too many parts": (env("  - numpy 1.0 build extra\n"), E, 2,
                                   ["environment.yml:4: not a conda package spec: 'numpy 1.0 build extra': "
                                    "expected NAME VERSION [BUILD]"]),
    "conda version twice": (env("  - numpy[version='1.0']=1.0\n"), E, 2,
        ["environment.yml:4: not a conda package spec: 'numpy[version='1.0']=1.0': a version "
                             "both in [version=...] and after it"]),
}


@pytest.mark.parametrize("files, argv, code, expected", CASES.values(), ids=CASES.keys())
def test_check(capsys, files, argv, code, expected):
    write(files)
    Path("latin1.txt").write_bytes("caf\xe9==1.0\n".encode("latin-1"))
    got, out, err = run(capsys, *argv)
    errors = [line.removeprefix("error: ") for line in err if line.startswith("error: ")]
    assert got == code, err
    assert len(errors) == len(expected), "\n".join(errors)
    for line, start in zip(errors, expected):
        assert line.startswith(start), f"{line!r}\ndoes not start with\n{start!r}"
    assert err == [f"error: {line}" for line in errors]  # nothing else on stderr
    if code == 0:
        assert "pinned" in out
    elif code == 1:
        assert f"deps: {len(expected)} of " in out


# --- the example project and the command line -----------------------------------------------------

def test_example_project_passes(capsys):
    code, out, err = run(capsys, str(EXAMPLE / "requirements.txt"), str(EXAMPLE / "environment.yml"))
    assert (code, err) == (0, [])
    assert "deps: 24 requirement(s) pinned (2 file(s) read)" in out


def test_the_same_file_twice_is_reported_once(capsys):
    write({"requirements.txt": "numpy\n-r other.txt\n", "other.txt": "flask\n"})
    code, out, err = run(capsys, "requirements.txt", "other.txt", "requirements.txt")
    assert code == 1
    assert err == ["error: requirements.txt:1: numpy: no version (fix: pin it: numpy==2.4.6 "
                   "(installed here))",
                   "error: other.txt:1: flask: no version (fix: pin it, e.g. flask==X.Y.Z)"]
    assert "deps: 2 of 2 requirement(s) not pinned (2 file(s) read)" in out


def test_a_file_read_as_requirements_and_as_constraints(capsys):
    write({"requirements.txt": "-c pins.txt\n-r pins.txt\nnumpy\n", "pins.txt": "numpy==1.26.4\n"})
    code, out, _ = run(capsys, "requirements.txt")
    assert code == 0
    assert "deps: 2 requirement(s) pinned (2 file(s) read)" in out


def test_help_documents_the_rules(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["deps", "check", "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for needle in ("-c FILE", "constraints file", "python=3.11", "full commit SHA", "--hash"):
        assert needle in text


def test_no_file_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["deps", "check"])
    assert exited.value.code == 2
    assert "the following arguments are required: FILE" in capsys.readouterr().err


# --- inside GitHub Actions ------------------------------------------------------------------------

def test_actions_annotations_and_summary(capsys, actions):
    write({"requirements.txt": "numpy==1.26.4\nscipy>=1,<2\n",
           "environment.yml": "dependencies:\n  - python=3.11\n  - numpy\n  - pip:\n      - 'pkg[a]'\n"})
    code, out, err = run(capsys, "requirements.txt", "environment.yml")
    assert (code, err) == (1, [])
    lines = out.splitlines()
    assert lines[:3] == [
        "::error file=requirements.txt,line=2,title=unpinned dependency::scipy: a range (<2,>=1) "
        "(fix: pin it, e.g. scipy==X.Y.Z)",
        "::error file=environment.yml,line=3,title=unpinned dependency::numpy: no version (fix: pin it: "
        "numpy=2.4.6 (installed here))",
        "::error file=environment.yml,line=5,title=unpinned dependency::pkg: no version (fix: pin it: "
        "pkg[a]==1.0.0 (installed here))"]
    assert lines[3] == "deps: 3 of 5 requirement(s) not pinned (2 file(s) read)"
    summary = actions.read_text(encoding="utf-8")
    assert summary.startswith("### deps: ❌ 3 unpinned requirement(s)\n\n"
                              "**files:** requirements.txt, environment.yml\n\n"
                              "| where | package | problem | fix |\n| --- | --- | --- | --- |\n")
    assert "| requirements.txt:2 | scipy | a range (&lt;2,&gt;=1) | pin it, e.g. scipy==X.Y.Z |" in summary
    assert "| environment.yml:5 | pkg | no version | pin it: pkg\\[a\\]==1.0.0 (installed here) |" in summary


def test_actions_summary_when_all_pinned(capsys, actions):
    write({"requirements.txt": "numpy==1.26.4\n-e .\n"})
    code, out, _ = run(capsys, "requirements.txt")
    assert code == 0
    assert out == "deps: 2 requirement(s) pinned (1 file(s) read)\n"
    assert actions.read_text(encoding="utf-8") == "### deps: ✅ 2 requirement(s) pinned\n\n" \
                                                  "**files:** requirements.txt\n"


def test_under_pre_commit_in_actions_only_annotations(capsys, actions, monkeypatch):
    """lint-test's pre-commit step runs the scaffold's deps hook after its deps-check step wrote the
    section: the hook must not write it a second time."""
    monkeypatch.setenv("PRE_COMMIT", "1")
    write({"requirements.txt": "numpy\n"})
    code, out, _ = run(capsys, "requirements.txt")
    assert code == 1 and out.startswith("::error file=requirements.txt,line=1,")
    assert not actions.exists()


def test_actions_malformed_file_is_an_annotation(capsys, actions):
    write(req("numpy>=1.0 foo\n"))
    code, out, _ = run(capsys, "requirements.txt")
    assert code == 2
    assert out.startswith("::error file=requirements.txt,line=1::not a requirement: ")
    assert not actions.exists()


# --- the pure functions ---------------------------------------------------------------------------

def test_logical_lines_follow_pip():
    text = ("a==1 \\\n  --hash=sha256:aa\n# comment \\\nb==2\nc==3 \\\n# a comment ends it\n"
            "d==4  # trailing\n   \n e==5 \\\n")
    assert list(pip.logical_lines(text)) == [(1, "a==1   --hash=sha256:aa"), (4, "b==2"), (5, "c==3"),
                                              (7, "d==4"), (9, "e==5")]


def test_records_carry_what_was_parsed():
    (dependency,) = pip.parse_line(f'Pkg[b,a]==1.0 ; python_version < "3.12" --hash=sha256:{SHA256}',
                                    "r.txt", 3)
    assert dependency == records.Dependency("r.txt", 3, "Pkg", "==1.0", records.PIP, 'python_version < "3.12"',
                                         ("a", "b"), (f"sha256:{SHA256}",))
    items = pip.parse_line("-r a.txt -c b.txt --pre", "r.txt", 1)
    assert items == [records.Include("r.txt", 1, "a.txt", False), records.Include("r.txt", 1, "b.txt", True)]
    assert pip.parse_line("-i https://x", "r.txt", 1) == []
    (url,) = pip.parse_line(f"https://e.com/x-1.0.whl#sha256={SHA256.upper()}", "r.txt", 1, constraint=True)
    assert (url.kind, url.name, url.hashes, url.constraint) == \
        (records.URL, "x-1.0.whl", (f"sha256:{SHA256}",), True)


def test_conda_specs():
    assert conda.split_conda_spec("conda-forge::numpy=1.26.4") == ("numpy", "=1.26.4")
    assert conda.split_conda_spec("numpy 1.26.4 py_0") == ("numpy", "1.26.4 py_0")
    assert conda.split_conda_spec("numpy[version='>=1', build=py3]") == ("numpy", ">=1")
    assert conda.split_conda_spec("numpy[build=py3]") == ("numpy", "")
    assert rules.conda_reason("python", "=3.11") is None
    assert rules.conda_reason("numpy", "=3.11") == "conda reads =3.11 as 3.11.*"
    assert rules.conda_reason("numpy", "==1.26=py_0") is None
    with pytest.raises(ValueError):
        conda.split_conda_spec("")


@pytest.mark.parametrize("name, version", [
    ("x-1.0-py3-none-any.whl", "1.0"), ("dvc-s3-3.3.0.tar.gz", "3.3.0"), ("x-2.tar.bz2", "2"),
    ("X-1.0.ZIP", "1.0"), ("x.whl", None), ("v1.2.0.tar.gz", None), ("x-main.zip", None),
    ("x-1.0.exe", None)])
def test_archive_version(name, version):
    assert rules.archive_version(name) == version


def test_installed_version(monkeypatch):
    monkeypatch.undo()  # the real lookup
    assert rules.installed_version("PyYAML") == metadata.version("PyYAML")
    assert rules.installed_version("surely-not-installed-pkg-x") is None
    assert rules.installed_version("") is None


def test_problems_default_to_the_installed_versions(monkeypatch):
    monkeypatch.undo()
    found = rules.problems([records.Dependency("r.txt", 1, "PyYAML", "", records.PIP)])
    assert found[0].fix == f"pin it: PyYAML=={metadata.version('PyYAML')} (installed here)"
    assert str(found[0]).startswith("PyYAML: no version (fix: pin it: PyYAML==")
    assert rules.problem(records.Dependency("r.txt", 1, "./x", "./x", records.LOCAL)) is None
