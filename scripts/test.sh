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

all_stages="setup unit sanity lint yamllint argspecs changelog build integration molecule-local molecule-kind"
# `make test` (no arguments) runs every stage but the two Molecule ones, which are named to run: on 2 cores the
# whole list does not fit CI's 90 minutes yet (docs/testing.md, "In make test").
default_stages="setup unit sanity lint yamllint argspecs changelog build integration"
read -r -a stages <<<"${DOK_TEST_STAGES:-$default_stages}"
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
    summary+=("$(printf '%-22s %-16s %6ss' "$name" "$status" "$elapsed")")
    return "$rc"
}

# The cluster comes up and the test images (debootstrap, package downloads) are built and loaded in the background
# while the static stages run; the integration stage waits for that. A failure there is not reported here: the
# integration stage brings the cluster up and builds again, and stops on the error. When the integration stage had
# to start the cluster, it is stopped afterwards.
cluster_answers() { (. tests/cluster/env.sh) >/dev/null 2>&1; }
cluster_was_up=0
cluster_answers && cluster_was_up=1
prepare_pid=""
# the extended tier (alias `extended`) is prepared and run only when asked: DOK_IT_EXTENDED=1
extended=(--exclude extended)
[ "${DOK_IT_EXTENDED:-0}" = 1 ] && extended=()
start_prepare() {
    [[ " ${stages[*]} " == *" integration "* ]] && [ -f tests/integration/run.sh ] || return 0
    [ "$(id -u)" = 0 ] || return 0
    mkdir -p "$output/integration"
    echo "integration: bringing the cluster up and building the test images in the background" \
        "(log: $output/integration/prepare.log)"
    setsid bash tests/integration/run.sh --all "${extended[@]}" --prepare >"$output/integration/prepare.log" 2>&1 &
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
trap '[ -z "$prepare_pid" ] || kill -- "-$prepare_pid" 2>/dev/null; [ -z "${static_pid:-}" ] || kill "$static_pid" 2>/dev/null' EXIT

# The stages that use the project's cluster (tests/cluster) run before the kind stage, and that cluster, when this
# run started it, is stopped after the last of them: the two clusters are never under load together on 2 cores.
uses_cluster() { [ "$1" = integration ] || [ "$1" = molecule-local ]; }
cluster_down_after() {
    local stage=$1 later=0 s seen=0
    for s in "${stages[@]}"; do
        [ "$seen" = 1 ] && uses_cluster "$s" && later=1
        [ "$s" = "$stage" ] && seen=1
    done
    if [ "$later" = 0 ] && [ "$cluster_was_up" = 0 ] && cluster_answers; then
        run_stage cluster-down tests/cluster/down.sh
    fi
}

# A Molecule scenario, its output in $output/molecule/<scenario>.log; the end of it on the console when it fails.
# shellcheck disable=SC2317 # called through run_stage
run_molecule() {
    local scenario=$1 log=$output/molecule/$1.log rc
    mkdir -p "$output/molecule"
    echo "molecule: test -s $scenario (log: $log)"
    molecule test -s "$scenario" >"$log" 2>&1
    rc=$?
    [ "$rc" = 0 ] || tail -n 60 "$log" | sed "s/^/    $scenario | /"
    return "$rc"
}

# The kind scenario makes its own kind cluster (tests/cluster/kind-up.sh); afterwards kind-down.sh removes whatever is
# left of it and stops the docker daemon when this run started it (docker stays installed).
# shellcheck disable=SC2317 # called through run_stage
kind_down() {
    local args=(--name "${DOK_KIND_CLUSTER:-dok-molecule}")
    [ "$docker_was_up" = 1 ] || args+=(--stop-docker)
    tests/cluster/kind-down.sh "${args[@]}"
}
docker_was_up=0
docker info >/dev/null 2>&1 && docker_was_up=1

# The static stages: they read the checkout only, never the cluster.
run_static_stage() {
    case "$1" in
        # the unit tests spread over the machine's CPUs (pytest-xdist); they share no state
        unit) run_stage unit python -m pytest -q -n "${DOK_UNIT_JOBS:-auto}" tests/unit ;;
        sanity) run_stage sanity scripts/sanity.sh ;;
        lint) run_stage lint ansible-lint --profile production ;;
        yamllint) run_stage yamllint yamllint --strict . ;;
        argspecs) run_stage argspecs python scripts/check_role_argspecs.py ;;
        changelog) run_stage changelog antsibull-changelog lint ;;
        build) run_stage build scripts/build.sh ;;
    esac
}

# With the integration stage in the run, the static stages run in the background where the CPUs have time to spare:
# beside the test image builds when those are still running once setup ends (a fresh machine), else beside the
# node-loss targets (alias `toolkit`), which spend most of their time waiting for Kubernetes to notice a dead node,
# while every other part of the integration stage keeps both CPUs busy. Their output is kept apart and printed whole
# once they end (after the integration stage); their summary lines are the same.
deferred=()
static_log=$output/static-stages.log
static_summary=$output/static-stages.summary
defer_static=0
if [[ " ${stages[*]} " == *" integration "* ]] && [ -f tests/integration/run.sh ] && [ "$(id -u)" = 0 ] \
    && [ "${DOK_TEST_OVERLAP:-1}" = 1 ]; then
    defer_static=1
fi
# shellcheck disable=SC2317 # runs in the background
run_deferred() {
    local s
    summary=()
    for s in "${deferred[@]}"; do run_static_stage "$s"; done
    printf '%s\n' "${summary[@]}" >"$static_summary"
    [ "$failed" = 0 ]
}
static_pid="" static_started=0
start_deferred() {
    [ "${#deferred[@]}" -gt 0 ] && [ "$static_started" = 0 ] || return 0
    static_started=1
    mkdir -p "$output"
    echo "static stages (${deferred[*]}) run in the background beside $1 (log: $static_log)"
    run_deferred >"$static_log" 2>&1 &
    static_pid=$!
}
finish_deferred() {
    [ -n "$static_pid" ] || return 0
    local line
    wait "$static_pid" || failed=1
    static_pid=""
    cat "$static_log"
    while IFS= read -r line; do [ -n "$line" ] && summary+=("$line"); done <"$static_summary"
}

start_prepare
for stage in "${stages[@]}"; do
    case "$stage" in
        setup) run_stage setup scripts/setup.sh || break ;;
        unit|sanity|lint|yamllint|argspecs|changelog|build)
            if [ "$defer_static" = 1 ]; then deferred+=("$stage"); else run_static_stage "$stage"; fi
            ;;
        integration)
            if [ -f tests/integration/run.sh ]; then
                # On a fresh machine the images are still being built (downloads, debootstrap): that leaves CPU time
                # the static stages can use, so they start now rather than beside the node-loss targets.
                if [ "$defer_static" = 1 ] && [ -n "$prepare_pid" ] && kill -0 "$prepare_pid" 2>/dev/null; then
                    start_deferred "the test image builds"
                fi
                wait_prepare
                if [ "$defer_static" = 1 ]; then
                    run_stage integration bash tests/integration/run.sh --all --exclude toolkit "${extended[@]}"
                    start_deferred "the node-loss targets"
                    run_stage integration-node-loss bash tests/integration/run.sh --tier toolkit
                    finish_deferred
                else
                    run_stage integration bash tests/integration/run.sh --all "${extended[@]}"
                fi
                cluster_down_after integration
            else
                printf '\n===== integration: SKIPPED, tests/integration/run.sh is not in this checkout\n'
                summary+=("$(printf '%-22s %-16s' integration SKIPPED)")
            fi
            ;;
        molecule-local)
            run_stage molecule-local run_molecule local
            cluster_down_after molecule-local
            ;;
        molecule-kind)
            run_stage molecule-kind run_molecule kind
            run_stage kind-down kind_down
            ;;
        *) echo "unknown stage '$stage'; stages: $all_stages" >&2; exit 2 ;;
    esac
done

printf '\n===== summary\n'
printf '%s\n' "${summary[@]}"
# the targets that failed, named here because a CI log is often read from its tail
while read -r result; do
    read -r outcome _ <"$result" || outcome=failed
    [ "$outcome" = passed ] && continue
    printf '  failed target: %s (log: %s)\n' "$(basename "$result" .result)" "${result%.result}.log"
    grep -E 'fatal: |FAILED! =>' "${result%.result}.log" 2>/dev/null | tail -n 1 | cut -c 1-600 | sed 's/^/    /'
done < <(find "$output/integration" -maxdepth 1 -name '*.result' -newermt "@$started" 2>/dev/null | sort)
printf '%-39s %6ss\n' total "$(($(date +%s) - started))"
exit "$failed"
