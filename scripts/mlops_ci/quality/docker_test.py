"""`mlops-ci docker-test`: build the project's Dockerfile and run its integration tests in a container.

Talks to a Docker engine through the Docker SDK for Python: DOCKER_HOST (with DOCKER_TLS_VERIFY and
DOCKER_CERT_PATH) when set, else the current Docker context, else the default socket. Build output
and test output stream to the log; the container is removed afterwards, and the image too unless
--keep-image.

  image tag   --tag, else mlops-ci-it/<repository name>:<commit, 12 hex digits>: GITHUB_REPOSITORY and
              GITHUB_SHA inside Actions, else the context folder's name and `git rev-parse HEAD`
              run there, else the tag `latest`; made to fit Docker's rules (a lowercase name of
              letters, digits and . _ __ - separators, at most 255 characters; a tag of at most 128)
  labels      org.opencontainers.image.revision (the commit) and org.opencontainers.image.source
              (the repository's URL, credentials left out), when known
  Dockerfile  --dockerfile FILE, relative to the context (as for the SDK and Docker Compose) or
              absolute; default: Dockerfile in the context
  build args  exactly those given as --build-arg NAME=VALUE; the Dockerfile's ARG defaults cover the
              rest (the example declares PYTHON_VERSION and TORCH_INDEX_URL). Names are logged,
              values are not
  command     --command, split the way a shell splits words (shlex) but run without a shell;
              default: the image's own CMD
  environment --env NAME passes this machine's value of NAME into the container; values are never
              printed, and a NAME that is not set here is left out with a warning
  timeout     --timeout SECONDS stops the container when the tests run longer (default 1800)

The engine builds with its classic builder (the SDK's API), so the Dockerfile may not use
BuildKit-only syntax (RUN --mount, COPY --chmod, heredocs).

Exit 0 the command in the container exited 0; 1 it exited non-zero or ran out of time (its exit code
and last lines are reported); 2 a missing context or Dockerfile, a malformed option, a failed build
(with the failing step's message) or no reachable Docker engine.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from mlops_ci.clients.docker import (BUILD_STEP, build_image, connect, engine_errors, engine_output,
                                     image_command, reason, remove, run_container)
from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, MlopsCiError
from mlops_ci.core.proc import git_output
from mlops_ci.core.text import md_escape, show

IMAGE_PREFIX = "mlops-ci-it"
SHORT_SHA = 12
DEFAULT_TIMEOUT_S = 1800.0
LABEL_REVISION = "org.opencontainers.image.revision"
LABEL_SOURCE = "org.opencontainers.image.source"

# Docker's reference grammar (github.com/distribution/reference), without digests.
_NAME_MAX = 255
_TAG_MAX = 128
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_REFERENCE = re.compile(rf"(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)"
                        rf"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{{0,{_TAG_MAX - 1}}}))?")
_SEPARATORS = re.compile(r"[._-]{2,}")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_SCP_REMOTE = re.compile(r"(?:[^@/:]+@)?(?P<host>[^/:]+):(?P<path>[^/].*)")

# (folder, git arguments...) -> its stdout, None when git failed or is missing (core.proc.git_output).
GitRunner = Callable[..., "str | None"]


# --- the image tag ----------------------------------------------------------------------------------

def sanitize_component(text: str) -> str:
    """One component of an image name: lowercase letters and digits, with one `.`, `_`, `__` or a run
    of `-` between them. Anything else becomes `-`; separators at either end are dropped."""
    text = re.sub(r"[^a-z0-9._-]+", "-", text.lower())
    text = _SEPARATORS.sub(lambda run: run.group() if run.group() == "__" or set(run.group()) == {"-"}
                           else "-", text)
    return text.strip("._-")


def sanitize_tag(text: str) -> str:
    """The tag part of a reference: letters, digits, `_`, `.`, `-`, not starting with `.` or `-`, at
    most 128 characters; `latest` when nothing is left."""
    text = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).lstrip(".-")[:_TAG_MAX]
    return text or "latest"


def image_reference(repository: str, tag: str) -> str:
    """`repository:tag` made valid for Docker (see sanitize_component and sanitize_tag); a repository
    with nothing valid in it becomes `project`."""
    components = [part for part in (sanitize_component(part) for part in repository.split("/")) if part]
    name = "/".join(components or ["project"])
    if len(name) > _NAME_MAX:
        name = name[:_NAME_MAX].rstrip("._-/")
    return f"{name}:{sanitize_tag(tag)}"


def is_valid_reference(reference: str) -> bool:
    """True when Docker accepts `reference` as an image name with an optional tag."""
    match = _REFERENCE.fullmatch(reference)
    return bool(match) and len(match.group("name")) <= _NAME_MAX


def default_tag(repository_name: str, sha: str) -> str:
    """mlops-ci-it/<repository name>:<first 12 characters of the commit>, or :latest with no commit."""
    return image_reference(f"{IMAGE_PREFIX}/{repository_name}", sha[:SHORT_SHA] if sha else "latest")


def checked_tag(reference: str) -> str:
    """A --tag given by the user, refused (exit 2) with a suggestion when Docker would refuse it."""
    if is_valid_reference(reference):
        return reference
    name, colon, tag = reference.rpartition(":")
    if not colon or "/" in tag:
        name, tag = reference, "latest"
    raise MlopsCiError(f"{show(reference)} is not a valid image reference (lowercase name of letters, "
                       f"digits and . _ - separators; tag of letters, digits, _ . -): "
                       f"try {image_reference(name, tag)}", where="--tag")


# --- where the code comes from ----------------------------------------------------------------------

@dataclass(frozen=True)
class Revision:
    """What the image is built from: the repository's name (for the tag), the commit, the URL."""

    name: str
    sha: str = ""
    url: str = ""


def public_url(remote: str) -> str:
    """A Git remote as a browsable https URL without credentials; '' for a local path or an unknown
    scheme. git@host:owner/repo.git and ssh://git@host/owner/repo.git become https://host/owner/repo."""
    remote = remote.strip()
    scp = _SCP_REMOTE.fullmatch(remote) if "://" not in remote else None
    if scp:
        host, path = scp.group("host"), scp.group("path")
    else:
        parts = urlsplit(remote)
        if parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
            return ""
        host, path = parts.hostname, parts.path
        if parts.scheme == "http" and parts.port:
            host = f"{host}:{parts.port}"
    path = path.strip("/").removesuffix(".git")
    return f"https://{host}/{path}" if path else ""


def revision_of(context: Path, environ: Mapping[str, str], git: GitRunner = git_output) -> Revision:
    """The revision from GITHUB_REPOSITORY / GITHUB_SHA / GITHUB_SERVER_URL when set, else from Git in
    `context` (the folder's name, HEAD, the `origin` remote)."""
    repository = environ.get("GITHUB_REPOSITORY", "").strip()
    sha = environ.get("GITHUB_SHA", "").strip().lower()
    if repository:
        server = environ.get("GITHUB_SERVER_URL", "").strip().rstrip("/") or "https://github.com"
        url = f"{server}/{repository}"
        name = repository.rsplit("/", 1)[-1]
    else:
        url = public_url(git(context, "remote", "get-url", "origin") or "")
        name = context.resolve().name
    if not sha:
        sha = (git(context, "rev-parse", "HEAD") or "").strip().lower()
    return Revision(name, sha if _SHA.fullmatch(sha) else "", url)


# --- options ----------------------------------------------------------------------------------------

def parse_build_args(items: Iterable[str]) -> dict[str, str]:
    """--build-arg NAME=VALUE items as a dict (a later NAME wins, as with docker build)."""
    build_args: dict[str, str] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not _VARIABLE.fullmatch(name):
            # Only what looks like a name is shown: the rest may be a value nobody should see in a log.
            shown = re.match(r"[A-Za-z0-9_]*", item).group()  # type: ignore[union-attr]
            raise MlopsCiError(f"expected NAME=VALUE, got {show(shown + ('...' if shown != item else ''))} "
                               "(NAME: letters, digits and _, not starting with a digit)",
                               where="--build-arg")
        build_args[name] = value
    return build_args


def container_environment(names: Iterable[str],
                          environ: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """(NAME -> this machine's value, the NAMEs not set here) for --env NAME options."""
    passed: dict[str, str] = {}
    missing: list[str] = []
    for name in names:
        if "=" in name:
            raise MlopsCiError(f"give only the name ({show(name.partition('=')[0])}) and set it in the "
                               "environment: a value on the command line shows in logs and process lists",
                               where="--env")
        if not _VARIABLE.fullmatch(name):
            raise MlopsCiError(f"{show(name)} is not an environment variable name", where="--env")
        if name in environ:
            passed[name] = environ[name]
        elif name not in missing:
            missing.append(name)
    return passed, missing


def command_argv(command: str | None) -> list[str] | None:
    """--command split into argv the way a shell splits words; None (the image's CMD) when not given."""
    if command is None:
        return None
    try:
        argv = shlex.split(command)
    except ValueError as error:
        raise MlopsCiError(f"cannot split {show(command)}: {error}", where="--command") from error
    if not argv:
        raise MlopsCiError("empty: give the test command, e.g. --command 'python -m pytest -q "
                           "tests/integration'", where="--command")
    return argv


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction of a Dockerfile: comments dropped, lines ending in
    a backslash joined to the next (heredocs are not supported)."""
    instructions: list[tuple[str, str]] = []
    parts: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not parts):
            continue
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        parts.append(stripped)
        joined = " ".join(part for part in parts if part)
        parts = []
        keyword, _, arguments = joined.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def declared_args(text: str) -> set[str]:
    """The names of the ARGs a Dockerfile declares (ARG NAME, ARG NAME=default)."""
    names = set()
    for keyword, arguments in dockerfile_instructions(text):
        if keyword == "ARG":
            names.update(word.partition("=")[0] for word in arguments.split())
    return names


def resolve_dockerfile(context: Path, dockerfile: str | None) -> Path:
    """The Dockerfile: --dockerfile, a path relative to the context (as for the SDK and Compose) or
    absolute; by default Dockerfile in the context. Raises MlopsCiError when the context or the file
    is missing."""
    if not context.is_dir():
        raise MlopsCiError("no such folder: --context must name the folder to build from",
                           where=str(context))
    path = context / (dockerfile or "Dockerfile")
    if path.is_file():
        return path
    hint = ""
    if dockerfile and not Path(dockerfile).is_absolute() and Path(dockerfile).is_file():
        hint = (" (--dockerfile is relative to the context, unlike docker build -f: give "
                f"{Path(dockerfile).resolve()} or a path from {context})")
    raise MlopsCiError(f"no Dockerfile here{hint}", where=str(path))


# --- the plan ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:  # pylint: disable=too-many-instance-attributes
    """Everything docker-test will ask the engine for, worked out before talking to it.

    `dockerfile` is relative to `context` when it lies inside it (the SDK's convention), else
    absolute (the SDK then sends it along with the context). `command` None runs the image's CMD.
    `environment` holds values from this machine: it is left out of repr() and never printed.
    """

    context: str
    dockerfile: str
    tag: str
    build_args: dict[str, str]
    labels: dict[str, str]
    target: str | None
    command: list[str] | None
    environment: dict[str, str] = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT_S
    keep_image: bool = False
    warnings: tuple[str, ...] = ()

    def build_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the SDK's low-level `APIClient.build` (a stream of decoded dicts)."""
        return {"path": self.context, "dockerfile": self.dockerfile, "tag": self.tag,
                "buildargs": dict(self.build_args), "labels": dict(self.labels), "target": self.target,
                "rm": True, "forcerm": True, "decode": True}

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of `DockerClient.containers.create` for the test container."""
        return {"image": self.tag, "command": list(self.command) if self.command else None,
                "environment": dict(self.environment)}

    def shown_command(self) -> str:
        """The command for messages: the argv quoted for a shell, or `the image's CMD`."""
        return shlex.join(self.command) if self.command else "the image's CMD"


# One keyword argument per command-line option, plus the environment and Git (for tests).
# pylint: disable-next=too-many-arguments,too-many-locals
def plan(*, context: str = ".", dockerfile: str | None = None, tag: str | None = None,
         build_args: Iterable[str] = (), target: str | None = None, command: str | None = None,
         env: Iterable[str] = (), timeout: float = DEFAULT_TIMEOUT_S, keep_image: bool = False,
         environ: Mapping[str, str] | None = None, git: GitRunner | None = None) -> Plan:
    """Check the options and work out the build and the run; touches no engine.

    Raises MlopsCiError (exit 2) for a missing context or Dockerfile, a malformed --build-arg, --env,
    --command or --tag.
    """
    environ = os.environ if environ is None else environ
    context_path = Path(context)
    dockerfile_path = resolve_dockerfile(context_path, dockerfile)
    parsed_args = parse_build_args(build_args)
    argv = command_argv(command)
    environment, missing = container_environment(env, environ)
    if not (math.isfinite(timeout) and timeout > 0):
        raise MlopsCiError(f"must be a positive number of seconds, got {timeout:g}", where="--timeout")
    revision = revision_of(context_path, environ, git or git_output)
    labels = {LABEL_REVISION: revision.sha, LABEL_SOURCE: revision.url}
    warnings = [f"--env {name}: not set here, so the container does not get it" for name in missing]
    warnings += _undeclared_args(dockerfile_path, parsed_args)
    return Plan(context=str(context_path.resolve()), dockerfile=sdk_dockerfile(context_path, dockerfile_path),
                tag=checked_tag(tag) if tag else default_tag(revision.name, revision.sha),
                build_args=parsed_args, labels={key: value for key, value in labels.items() if value},
                target=target or None, command=argv, environment=environment, timeout=timeout,
                keep_image=keep_image, warnings=tuple(warnings))


def sdk_dockerfile(context: Path, dockerfile: Path) -> str:
    """The Dockerfile as the SDK wants it: relative to the context when inside it, else absolute."""
    absolute_context, absolute = context.resolve(), dockerfile.resolve()
    if absolute.is_relative_to(absolute_context):
        return absolute.relative_to(absolute_context).as_posix()
    return str(absolute)


def _undeclared_args(dockerfile: Path, build_args: Mapping[str, str]) -> list[str]:
    """Warnings for build args the Dockerfile has no ARG for (the engine ignores them)."""
    try:
        declared = declared_args(dockerfile.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise MlopsCiError(f"cannot read: {error}", where=str(dockerfile)) from error
    return [f"--build-arg {name}: {dockerfile} declares no ARG {name}, so the build ignores it"
            for name in build_args if name not in declared]



# --- running the plan on the engine ------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:  # pylint: disable=too-many-instance-attributes
    """What happened: the exit code for the CLI and what the report and summary say."""

    exit_code: int
    result: str
    command: str
    build_seconds: float
    test_seconds: float | None = None
    status_code: int | None = None
    tail: tuple[str, ...] = ()
    message: str = ""


def execute(the_plan: Plan, client: Any, out: TextIO | None = None) -> Outcome:
    """Build, run the tests, remove the container and (unless keep_image) the image.

    `client` is a `docker.DockerClient` (from connect) or a stand-in with the same methods:
    `api.build`, `images.get`, `images.remove`, `containers.create` and the container's `start`,
    `logs`, `wait`, `kill`, `reload`, `attrs`, `remove`. A failed build is an Outcome with exit code
    2; an engine error while running the tests raises MlopsCiError.
    """
    out = out or sys.stdout
    started = time.monotonic()
    try:
        with engine_output(out, group=f"docker build {the_plan.tag}"):
            failure, build_tail = build_image(client.api, the_plan.build_kwargs(), out)
    except engine_errors() as error:
        failure, build_tail = f"the engine refused it: {reason(error)}", ()
    build_seconds = time.monotonic() - started
    if failure:
        return Outcome(EXIT_USAGE, "build failed", the_plan.shown_command(), build_seconds,
                       tail=build_tail, message=f"build failed at {failure}" if BUILD_STEP.match(failure)
                       else f"build failed: {failure}")
    print(f"docker-test: built {the_plan.tag} in {build_seconds:.1f} s", file=out, flush=True)
    shown = the_plan.shown_command()
    if the_plan.command is None:
        shown = image_command(client, the_plan.tag) or shown
    names = ", ".join(sorted(the_plan.environment)) or "none"
    print(f"docker-test: running {shown} in {the_plan.tag} (environment passed: {names}; "
          f"timeout {the_plan.timeout:g} s)", file=out, flush=True)
    try:
        run = run_container(client, the_plan.run_kwargs(), the_plan.timeout, out)
    except engine_errors() as error:
        raise MlopsCiError(f"the Docker engine failed while running the tests in {the_plan.tag}: "
                           f"{reason(error)}") from error
    finally:
        if not the_plan.keep_image:
            remove(lambda: client.images.remove(image=the_plan.tag), f"the image {the_plan.tag}")
    if run.timed_out:
        return Outcome(EXIT_REFUSED, f"timed out after {the_plan.timeout:g} s", shown, build_seconds,
                       run.seconds, run.status_code, run.tail,
                       f"{shown} ran longer than --timeout {the_plan.timeout:g} s in {the_plan.tag}: stopped")
    if run.status_code != 0:
        killed = " (killed: out of memory)" if run.out_of_memory else ""
        return Outcome(EXIT_REFUSED, f"failed: exit {run.status_code}{killed}", shown, build_seconds,
                       run.seconds, run.status_code, run.tail,
                       f"{shown} exited {run.status_code}{killed} in {the_plan.tag}")
    return Outcome(EXIT_OK, "passed: exit 0", shown, build_seconds, run.seconds, 0, run.tail)


# --- the command line -------------------------------------------------------------------------------

def _fence(lines: Sequence[str]) -> str:
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def summary_markdown(the_plan: Plan, outcome: Outcome) -> str:
    """The job summary: verdict, image, build time, command, result, duration, and the last lines of
    the output when something failed."""
    icon = "✅" if outcome.exit_code == EXIT_OK else "❌"
    duration = "—" if outcome.test_seconds is None else f"{outcome.test_seconds:.1f} s"
    rows = [("image", the_plan.tag), ("build", f"{outcome.build_seconds:.1f} s"),
            ("test command", outcome.command), ("result", outcome.result), ("duration", duration)]
    lines = [f"### docker-test: {icon} {md_escape(outcome.result)}", "", "| | |", "| --- | --- |"]
    lines += [f"| {name} | {md_escape(value)} |" for name, value in rows]
    if outcome.exit_code != EXIT_OK and outcome.tail:
        fence = _fence(outcome.tail)
        what = "build output" if outcome.exit_code == EXIT_USAGE else "test output"
        lines += ["", f"<details><summary>last lines of the {what}</summary>", "", f"{fence}text",
                  *outcome.tail, fence, "", "</details>"]
    return "\n".join(lines) + "\n"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from error
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _shown_path(path: Path) -> str:
    """`path` relative to the current folder when it lies below it."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def run_docker_test(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci docker-test`."""
    the_plan = plan(context=args.context, dockerfile=args.dockerfile, tag=args.tag,
                    build_args=args.build_arg, target=args.target, command=args.command, env=args.env,
                    timeout=args.timeout, keep_image=args.keep_image)
    for warning in the_plan.warnings:
        gha.report("warning", f"docker-test: {warning}")
    details = [f"docker-test: building {the_plan.tag} from {the_plan.context}",
               f"Dockerfile: {the_plan.dockerfile}"]
    if the_plan.build_args:
        details.append(f"build args: {' '.join(the_plan.build_args)}")
    if the_plan.target:
        details.append(f"target: {the_plan.target}")
    print(", ".join(details), flush=True)
    client = connect()
    try:
        outcome = execute(the_plan, client)
    finally:
        client.close()
    if gha.in_actions():
        gha.append_summary(summary_markdown(the_plan, outcome))
    if outcome.exit_code == EXIT_USAGE:
        raise MlopsCiError(outcome.message, where=_shown_path(Path(the_plan.context, the_plan.dockerfile)))
    kept = f"; image kept: {the_plan.tag}" if the_plan.keep_image else ""
    if outcome.exit_code == EXIT_OK:
        print(f"docker-test: passed: {outcome.command} exited 0 in {outcome.test_seconds:.1f} s{kept}",
              flush=True)
        return EXIT_OK
    tail = "\n".join(outcome.tail)
    gha.report("error", f"{outcome.message}; last lines:\n{tail}" if tail else outcome.message,
               title="docker-test: integration tests failed")
    if kept:
        print(f"docker-test: image kept: {the_plan.tag}", flush=True)
    return EXIT_REFUSED


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci docker-test` to the CLI."""
    parser = subparsers.add_parser(
        "docker-test", help="build the Dockerfile and run the integration tests in a container",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--context", default=".", metavar="DIR", help="build context (default: .)")
    parser.add_argument("--dockerfile", metavar="FILE",
                        help="the Dockerfile, relative to the context or absolute (default: Dockerfile)")
    parser.add_argument("--tag", metavar="TAG",
                        help=f"image reference (default: {IMAGE_PREFIX}/<repository name>:<short sha>)")
    parser.add_argument("--build-arg", action="append", default=[], metavar="NAME=VALUE",
                        help="a build argument (repeatable)")
    parser.add_argument("--target", metavar="STAGE", help="build up to this stage of a multi-stage file")
    parser.add_argument("--command", metavar="COMMAND",
                        help="the test command, e.g. 'python -m pytest -q tests/integration' "
                             "(default: the image's CMD)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME",
                        help="pass this machine's NAME into the container (repeatable; values never printed)")
    parser.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                        help=f"stop the tests after SECONDS (default: {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--keep-image", action="store_true", help="keep the image after the tests")
    parser.set_defaults(handler=run_docker_test)
