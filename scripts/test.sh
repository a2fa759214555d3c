#!/usr/bin/env bash
# `make test`: every check of the collection, one stage after another, each timed.
# Stages after setup run even when an earlier one failed, so one run shows every failure;
# the exit status is non-zero when any stage failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT" || exit 1
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.collections"
export PATH="$ROOT/.venv/bin:$PATH"
# Plain output when it goes to a log (CI) rather than a terminal.
[ -t 1 ] || export NO_COLOR=1

stages=(setup unit sanity lint yamllint argspecs changelog build integration)
[ "$#" -eq 0 ] || stages=("$@")

declare -a summary=()
failed=0
started=$(date +%s)

run_stage() {
    local name=$1 start rc
    shift
    printf '\n===== %s: %s\n' "$name" "$*"
    start=$(date +%s)
    "$@"
    rc=$?
    local elapsed=$(($(date +%s) - start))
    local status=PASS
    [ "$rc" -eq 0 ] || { status="FAIL (exit $rc)"; failed=1; }
    if [ "$name" = unit ] && [ "$rc" -eq 5 ]; then
        status="FAIL (no tests)"
        echo "unit: pytest collected no tests under tests/unit"
    fi
    printf '===== %s: %s in %ss\n' "$name" "$status" "$elapsed"
    summary+=("$(printf '%-12s %-16s %6ss' "$name" "$status" "$elapsed")")
    return "$rc"
}

for stage in "${stages[@]}"; do
    case "$stage" in
        setup) run_stage setup scripts/setup.sh || break ;;
        unit) run_stage unit python -m pytest -q tests/unit ;;
        sanity) run_stage sanity scripts/sanity.sh ;;
        lint) run_stage lint ansible-lint --profile production ;;
        yamllint) run_stage yamllint yamllint --strict . ;;
        argspecs) run_stage argspecs python scripts/check_role_argspecs.py ;;
        changelog) run_stage changelog antsibull-changelog lint ;;
        build) run_stage build scripts/build.sh ;;
        integration)
            if [ -f tests/integration/run.sh ]; then
                run_stage integration bash tests/integration/run.sh --all
            else
                printf '\n===== integration: SKIPPED, tests/integration/run.sh is not in this checkout\n'
                summary+=("$(printf '%-12s %-16s' integration SKIPPED)")
            fi
            ;;
        *) echo "unknown stage '$stage'; stages: setup unit sanity lint yamllint argspecs changelog build integration" >&2; exit 2 ;;
    esac
done

printf '\n===== summary\n'
printf '%s\n' "${summary[@]}"
printf '%-29s %6ss\n' total "$(($(date +%s) - started))"
exit "$failed"
