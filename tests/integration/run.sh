#!/usr/bin/env bash
# Run integration targets against the live cluster (tests/cluster/up.sh brings it up or reuses it).
#   tests/integration/run.sh [--all] [--tier ALIAS]... [--exclude ALIAS]... [--jobs N] [--no-images] [--list]
#                            [--list-images] [--prepare] [--syntax-check] [TARGET...]
# Each target (tests/integration/targets/<name>/, role-shaped: tasks/main.yml, defaults/, files/, aliases) runs in a
# generated play that includes it as a role, on localhost with connection local, or on the cluster's node hosts
# (group dok_nodes) when its aliases say `hosts/nodes`. Aliases also name tiers (slow, cassandra, ...) and images
# (`image/<build target>`, built and loaded first). `disabled` keeps a target out of --all (shared setup roles);
# `unproven` too, for a target that has not yet passed on a real cluster: it is listed loudly, with the reason its
# aliases file gives (`# unproven: ...`), and runs only when named.
# Up to N targets (--jobs, else $DOK_IT_JOBS, default 3) run at once, longest first (alias `seconds/<n>`: about how
# long the target takes beside two others here; without it 600 for `slow` ones, else 120), so that the lanes end close
# together; each has its own namespace
# and only cluster-wide objects named after it. Targets whose aliases say `exclusive` (a Cassandra ring saturates
# this host) run afterwards with no other target beside them, up to $DOK_IT_EXCLUSIVE_JOBS (default 2) of them at once
# (two rings fit in this host's memory and overlap their waits), those that also say `toolkit` alone. --jobs 1 runs
# everything in the given order.
# Targets whose aliases say `toolkit` cut nodes of the offline toolkit cluster and are skipped, loudly, on any other.
# Targets whose aliases say `extended` run with --all; `make test` leaves them out unless DOK_IT_EXTENDED=1.
# Targets get dok_it_namespace (dok-it-<target>, `_` as `-`; dok-it-<tag>-<target> with DOK_IT_NS_SUFFIX=-<tag>, so
# that two runs of one target can share a cluster: give each its own tag and DOK_TEST_OUTPUT), dok_it_cluster and dok_it_inventory. Before a target
# starts, what an interrupted run of it left is removed: that namespace, PVs named <namespace>-*, the StorageClass of
# that name and, on the toolkit cluster, the PV directories node-*/pv/<namespace>[-*] (unmounted first).
# --list-images prints the image build targets the selection needs; --prepare only brings the cluster up and builds
# and loads those images. --syntax-check checks the generated plays without a cluster. Logs go to
# tests/output/integration/<target>.log; the last line is "N passed, N failed[, N skipped]".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
targets_dir=$here/targets
logdir=${DOK_TEST_OUTPUT:-$repo/tests/output}/integration
NO_CLUSTER_REASON="no cluster possible on this host"

all=0 images=1 list=0 list_images=0 prepare=0 syntax=0 jobs=${DOK_IT_JOBS:-3} exclusive_jobs=${DOK_IT_EXCLUSIVE_JOBS:-2}
tiers=() excludes=() selected=() unproven=()
while [ $# -gt 0 ]; do
  case "$1" in
    --all) all=1 ;;
    --tier) tiers+=("$2"); shift ;;
    --exclude) excludes+=("$2"); shift ;;
    --no-images) images=0 ;;
    --jobs) jobs=$2; shift ;;
    --list) list=1 ;;
    --list-images) list_images=1 ;;
    --prepare) prepare=1 ;;
    --syntax-check) syntax=1 images=0 ;;
    -h|--help) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) selected+=("${1%/}") ;;
  esac
  shift
done
case "$jobs" in ''|*[!0-9]*|0) echo "run.sh: --jobs (or DOK_IT_JOBS) must be a whole number of at least 1, got '$jobs'" >&2; exit 2 ;; esac
case "$exclusive_jobs" in ''|*[!0-9]*|0) echo "run.sh: DOK_IT_EXCLUSIVE_JOBS must be a whole number of at least 1, got '$exclusive_jobs'" >&2; exit 2 ;; esac
[ "$syntax" = 0 ] || jobs=1

aliases_of() { [ -f "$targets_dir/$1/aliases" ] && sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$targets_dir/$1/aliases"; }
has_alias() { aliases_of "$1" | grep -qx "$2"; }
# Expected seconds of a target, only to order the lanes.
seconds_of() {
  local n
  n=$(aliases_of "$1" | sed -n 's#^seconds/\([0-9][0-9]*\)$#\1#p' | head -1)
  if [ -n "$n" ]; then echo "$n"; elif has_alias "$1" slow; then echo 600; else echo 120; fi
}

if [ ${#selected[@]} -eq 0 ]; then
  if [ "$all" = 0 ] && [ ${#tiers[@]} -eq 0 ]; then
    echo "run.sh: name targets, --all or --tier ALIAS (targets: $(cd "$targets_dir" && printf '%s ' */ | tr -d /))" >&2
    exit 2
  fi
  for d in "$targets_dir"/*/; do
    t=$(basename "$d")
    has_alias "$t" disabled && continue
    if has_alias "$t" unproven; then unproven+=("$t"); continue; fi
    if [ ${#tiers[@]} -gt 0 ]; then
      keep=0
      for tier in "${tiers[@]}"; do has_alias "$t" "$tier" && keep=1; done
      [ "$keep" = 1 ] || continue
    fi
    selected+=("$t")
  done
fi
run=()
for t in "${selected[@]}"; do
  [ -f "$targets_dir/$t/tasks/main.yml" ] || { echo "run.sh: no target $t (missing $targets_dir/$t/tasks/main.yml)" >&2; exit 2; }
  skip=0
  for e in "${excludes[@]+"${excludes[@]}"}"; do has_alias "$t" "$e" && skip=1; done
  [ "$skip" = 1 ] || run+=("$t")
done
shared=() alone=() exclusive_limit=$(( exclusive_jobs < jobs ? exclusive_jobs : jobs ))
for t in "${run[@]+"${run[@]}"}"; do
  if [ "$jobs" -gt 1 ] && has_alias "$t" exclusive; then alone+=("$t"); else shared+=("$t"); fi
done
if [ "$jobs" -gt 1 ]; then
  # longest first, so that the lanes end close together (ties keep the alphabetical order)
  mapfile -t shared < <(for t in "${shared[@]+"${shared[@]}"}"; do printf '%s %s\n' "$(seconds_of "$t")" "$t"; done |
                        sort -s -k1,1nr | cut -d' ' -f2)
fi
# --list prints the targets in the order they start
if [ "$list" = 1 ]; then printf '%s\n' "${shared[@]+"${shared[@]}"}" "${alone[@]+"${alone[@]}"}"; exit 0; fi
wanted=()
for t in "${run[@]}"; do
  while read -r a; do case "$a" in image/*) wanted+=("${a#image/}") ;; esac; done < <(aliases_of "$t")
done
[ ${#wanted[@]} -eq 0 ] || mapfile -t wanted < <(printf '%s\n' "${wanted[@]}" | sort -u)
if [ "$list_images" = 1 ]; then [ ${#wanted[@]} -eq 0 ] || printf '%s\n' "${wanted[@]}"; exit 0; fi

mkdir -p "$logdir"
declare -A result seconds reason
summary() {
  local passed=0 failed=0 skipped=0 bad_skip=0 t failed_names=()
  echo
  printf '%-28s %-8s %8s\n' target result seconds
  for t in "${unproven[@]+"${unproven[@]}"}"; do
    printf 'NOT RUN %-28s unproven: %s\n' "$t" "$(sed -n 's/^# *unproven: *//p' "$targets_dir/$t/aliases" | head -n1)"
  done
  for t in "${run[@]}"; do
    printf '%-28s %-8s %8s\n' "$t" "${result[$t]:-not run}" "${seconds[$t]:--}"
    case "${result[$t]:-}" in
      passed) passed=$((passed + 1)) ;;
      skipped) skipped=$((skipped + 1)); [ "${reason[$t]}" = "$NO_CLUSTER_REASON" ] || bad_skip=1 ;;
      *) failed=$((failed + 1)); failed_names+=("$t") ;;
    esac
  done
  echo
  # the last lines name what failed, so that a log cut to its tail still says which target to look at
  for t in "${failed_names[@]+"${failed_names[@]}"}"; do echo "FAILED $t (log: ${logdir#"$repo"/}/$t.log)"; done
  if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
  [ "$failed" -eq 0 ] && [ "$bad_skip" -eq 0 ]
}
skip_loudly() {
  local t=$1 why=$2
  result[$t]=skipped reason[$t]=$why
  printf '\n!!!!!!!! SKIPPED %s: %s !!!!!!!!\n\n' "$t" "$why" >&2
}

if [ "$syntax" = 1 ]; then
  . "$repo/tests/cluster/env.sh" 2>/dev/null || true
  DOK_CLUSTER=${DOK_CLUSTER:-none}
else
  if ! "$repo/tests/cluster/up.sh" >"$logdir/cluster-up.log" 2>&1; then
    cat "$logdir/cluster-up.log" >&2
    [ "$prepare" = 0 ] || exit 1
    for t in "${run[@]}"; do skip_loudly "$t" "$NO_CLUSTER_REASON"; done
    summary
    exit $?
  fi
  . "$repo/tests/cluster/env.sh"
fi
echo "cluster: $DOK_CLUSTER (${KUBECONFIG:-no kubeconfig})"

if [ "$images" = 1 ]; then
  if [ ${#wanted[@]} -gt 0 ]; then
    start=$SECONDS
    case "$DOK_CLUSTER" in
      toolkit) "$repo/tests/images/build.sh" --load "${wanted[@]}" 2>&1 | tee "$logdir/images.log" ;;
      kind)
        for i in "${wanted[@]}"; do
          tar=$(. "$repo/tests/images/lib.sh"; dok_build_image "$i") && kind load image-archive --name "$DOK_KIND_NAME" "$tar"
        done 2>&1 | tee "$logdir/images.log" ;;
      *) echo "images: $DOK_CLUSTER cluster: load ${wanted[*]} yourself (tests/images/build.sh prints the tarballs)" | tee "$logdir/images.log" ;;
    esac
    [ "${PIPESTATUS[0]}" = 0 ] || { echo "run.sh: building or loading images failed (log: $logdir/images.log)" >&2; exit 1; }
    echo "images: ${wanted[*]} ready in $((SECONDS - start)) s"
  fi
fi
if [ "$prepare" = 1 ]; then
  echo "prepared: cluster $DOK_CLUSTER up, images ${wanted[*]:-none} ready in $SECONDS s"
  exit 0
fi

playbook_args=()
[ -n "${DOK_IT_VERBOSE:-}" ] && playbook_args+=(-v)
[ "$syntax" = 1 ] && playbook_args+=(--syntax-check)
python=$(command -v python3)
[ -x "$repo/.venv/bin/python" ] && python=$repo/.venv/bin/python
inventory=$logdir/inventory.ini
{
  echo "localhost ansible_connection=local ansible_python_interpreter=$python"
  echo "[dok_nodes]"
  if [ "$syntax" = 1 ]; then
    echo "dok-node-0 ansible_connection=local dok_it_node_base_dir=/nonexistent"
  elif [ "$DOK_CLUSTER" = toolkit ]; then
    for n in $(kubectl get nodes -o jsonpath='{.items[*].metadata.name}'); do
      i=${n##*-}
      echo "$n ansible_connection=local ansible_python_interpreter=$python dok_it_node_base_dir=$DOK_K8S_STATE/node-$i/pv"
    done
  fi
} >"$inventory"

# What a killed run of a target left, all named after its namespace, would hand the next run a stale database: its
# namespace, PVs, StorageClass and (toolkit) PV directories are removed before the target starts. Then a control-plane
# component that stopped since the last target is restarted. Runs in the dispatcher, never beside itself.
# Another target's namespace can start with this one's (dok-it-teardown, dok-it-teardown-crdb): a name of that
# longer namespace is never swept for this target.
of_other_target() {
  local ns=$1 name=$2 d other
  for d in "$targets_dir"/*/; do
    other=dok-it${DOK_IT_NS_SUFFIX:-}-$(basename "$d" | tr _ -)
    [ "$other" != "$ns" ] || continue
    case "$other" in "$ns"-*) ;; *) continue ;; esac
    case "$name" in "$other"|"$other"-*) return 0 ;; esac
  done
  return 1
}
prepare_target() {
  local ns=$1 d pv
  [ "$syntax" = 0 ] || return 0
  if kubectl get namespace "$ns" >/dev/null 2>&1; then
    echo "    removing namespace $ns, left by an interrupted run"
    kubectl delete namespace "$ns" --wait=true --timeout=600s >/dev/null || true
  fi
  kubectl get pv -o name 2>/dev/null | grep "^persistentvolume/$ns-" | while read -r pv; do
    of_other_target "$ns" "${pv#persistentvolume/}" && continue
    echo "    removing $pv, left by an interrupted run"
    kubectl delete "$pv" --wait=false >/dev/null || true
  done
  kubectl delete storageclass "$ns" --ignore-not-found >/dev/null 2>&1 || true
  if [ "$DOK_CLUSTER" = toolkit ]; then
    for d in "$DOK_K8S_STATE"/node-*/pv/"$ns" "$DOK_K8S_STATE"/node-*/pv/"$ns"-*; do
      [ -e "$d" ] || continue
      of_other_target "$ns" "$(basename "$d")" && continue
      echo "    removing $d, left by an interrupted run"
      if [ -d "$d" ] && mountpoint -q "$d"; then umount "$d" || umount -l "$d"; fi
      rm -rf -- "$d"
    done
    "$repo/tests/cluster/up.sh" >>"$logdir/cluster-up.log" 2>&1 || true
  fi
}

stamp_lines() {
  local start=$1 line
  while IFS= read -r line; do printf '%5d %s\n' "$((SECONDS - start))" "$line"; done
}

# Runs the target's play; the outcome goes to $logdir/<target>.result ("passed|failed SECONDS") for report_target.
play_target() {
  local t=$1 hosts=$2 ns=$3 play=$logdir/$1.play.yml start=$SECONDS outcome=failed
  cat >"$play" <<PLAY
- name: Run the integration target $t
  hosts: $hosts
  connection: local
  gather_facts: false
  vars:
    dok_it_target: $t
    dok_it_namespace: $ns
    dok_it_cluster: $DOK_CLUSTER
    dok_it_inventory: $inventory
  tasks:
    - name: Include the target $t
      ansible.builtin.include_role:
        name: $t
PLAY
  # Every line of the log starts with the seconds since the target started, so that a slow task shows.
  (cd "$repo" && ANSIBLE_ROLES_PATH=$targets_dir ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_NOCOLOR=1 \
      ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_DISPLAY_SKIPPED_HOSTS=0 \
      ansible-playbook -i "$inventory" "$play" "${playbook_args[@]}") 2>&1 | stamp_lines "$start" >"$logdir/$t.log"
  [ "${PIPESTATUS[0]}" != 0 ] || outcome=passed
  echo "$outcome $((SECONDS - start))" >"$logdir/$t.result"
}

report_target() {
  local t=$1 outcome secs
  read -r outcome secs <"$logdir/$t.result" 2>/dev/null || outcome=failed secs=-
  result[$t]=$outcome seconds[$t]=$secs
  [ "$outcome" = passed ] || tail -n 40 "$logdir/$t.log" | sed "s/^/    $t | /"
  echo "=== $t: $outcome in $secs s (log: ${logdir#"$repo"/}/$t.log)"
}

# Starts a target in the background once fewer than $2 targets run.
declare -A running=()
wait_all() { while [ "${#running[@]}" -gt 0 ]; do wait_one; done; }
wait_one() {
  local pid=
  wait -n -p pid "${!running[@]}"
  [ -n "$pid" ] || return 0
  report_target "${running[$pid]}"
  unset "running[$pid]"
}
launch_target() {
  local t=$1 limit=$2 hosts=localhost ns=dok-it${DOK_IT_NS_SUFFIX:-}-${1//_/-}
  if has_alias "$t" hosts/nodes; then
    hosts=dok_nodes
    if ! grep -q '^dok-node' "$inventory"; then
      skip_loudly "$t" "needs node hosts that share this machine's filesystem (offline toolkit cluster); $DOK_CLUSTER has none"
      return 0
    fi
  fi
  if has_alias "$t" toolkit && [ "$DOK_CLUSTER" != toolkit ] && [ "$syntax" = 0 ]; then
    skip_loudly "$t" "cuts a node with the offline toolkit's node-down.sh; $DOK_CLUSTER cluster has no such switch"
    return 0
  fi
  while [ "${#running[@]}" -ge "$limit" ]; do wait_one; done
  rm -f "$logdir/$t.result"
  if [ "$limit" -gt 1 ]; then echo "=== $t: started beside ${#running[@]} other target(s)"; else echo "=== $t"; fi
  prepare_target "$ns"
  play_target "$t" "$hosts" "$ns" &
  running[$!]=$t
}

if [ "$jobs" -gt 1 ]; then
  echo "running ${#shared[@]} target(s) in $jobs lanes, then ${#alone[@]} exclusive one(s), $exclusive_limit at a time"
fi
for t in "${shared[@]+"${shared[@]}"}"; do launch_target "$t" "$jobs"; done
# the exclusive targets start once every shared target has ended, then run beside each other only
[ "${#alone[@]}" = 0 ] || wait_all
# (a target that cuts nodes, alias `toolkit`, always runs with nothing beside it)
for t in "${alone[@]+"${alone[@]}"}"; do
  if has_alias "$t" toolkit; then
    launch_target "$t" 1
    wait_all
  else
    launch_target "$t" "$exclusive_limit"
  fi
done
wait_all
summary
