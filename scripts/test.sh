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
output=${DOK_TEST_OUTPUT:-$ROOT/tests/output}

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

# The test images (debootstrap, package downloads) build in the background while the static stages run; the
# integration stage waits for them. A failed build is not reported here: the integration stage builds again and
# stops on the error.
prebuild_pid=""
prebuild_started=0
start_prebuild() {
    [[ " ${stages[*]} " == *" integration "* ]] || return 0
    [ -f tests/integration/run.sh ] && [ "$(id -u)" = 0 ] && command -v debootstrap >/dev/null || return 0
    local images
    mapfile -t images < <(bash tests/integration/run.sh --all --list-images)
    [ "${#images[@]}" -gt 0 ] || return 0
    mkdir -p "$output/integration"
    echo "images: building ${images[*]} in the background (log: $output/integration/images-prebuild.log)"
    prebuild_started=$(date +%s)
    setsid tests/images/build.sh "${images[@]}" >"$output/integration/images-prebuild.log" 2>&1 &
    prebuild_pid=$!
}
wait_prebuild() {
    [ -n "$prebuild_pid" ] || return 0
    local waited rc
    waited=$(date +%s)
    wait "$prebuild_pid"
    rc=$?
    prebuild_pid=""
    echo "images: background build ended (exit $rc) $(($(date +%s) - prebuild_started)) s after it started;" \
        "the integration stage waited $(($(date +%s) - waited)) s for it"
}
trap '[ -z "$prebuild_pid" ] || kill -- "-$prebuild_pid" 2>/dev/null' EXIT

# The integration stage stops the cluster afterwards when it had to start it.
cluster_answers() { (. tests/cluster/env.sh) >/dev/null 2>&1; }

start_prebuild
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
                wait_prebuild
                cluster_was_up=0
                cluster_answers && cluster_was_up=1
                run_stage integration bash tests/integration/run.sh --all
                if [ "$cluster_was_up" = 0 ] && cluster_answers; then
                    run_stage cluster-down tests/cluster/down.sh
                fi
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
