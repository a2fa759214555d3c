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

# The cluster comes up and the test images (debootstrap, package downloads) are built and loaded in the background
# while the static stages run; the integration stage waits for that. A failure there is not reported here: the
# integration stage brings the cluster up and builds again, and stops on the error. When the integration stage had
# to start the cluster, it is stopped afterwards.
cluster_answers() { (. tests/cluster/env.sh) >/dev/null 2>&1; }
cluster_was_up=0
prepare_pid=""
start_prepare() {
    [[ " ${stages[*]} " == *" integration "* ]] && [ -f tests/integration/run.sh ] || return 0
    cluster_answers && cluster_was_up=1
    [ "$(id -u)" = 0 ] || return 0
    mkdir -p "$output/integration"
    echo "integration: bringing the cluster up and building the test images in the background" \
        "(log: $output/integration/prepare.log)"
    setsid bash tests/integration/run.sh --all --prepare >"$output/integration/prepare.log" 2>&1 &
    prepare_pid=$!
}
wait_prepare() {
    [ -n "$prepare_pid" ] || return 0
    local waited rc
    waited=$(date +%s)
    wait "$prepare_pid"
    rc=$?
    prepare_pid=""
    echo "integration: background preparation ended (exit $rc): $(tail -n 1 "$output/integration/prepare.log");" \
        "waited $(($(date +%s) - waited)) s for it"
}
trap '[ -z "$prepare_pid" ] || kill -- "-$prepare_pid" 2>/dev/null' EXIT

start_prepare
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
                wait_prepare
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
