#!/usr/bin/env bash
# Run `ansible-test sanity` (every test, Python 3.11) on a copy of the collection.
# ansible-test needs the collection at .../ansible_collections/dok/databases as a real directory,
# so the files git knows about (tracked, plus untracked ones that are not ignored) are copied to
# .tmp/ansible-test with kubernetes.core beside them. Extra arguments go to ansible-test.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
VENV="$ROOT/.venv"
WORK="$ROOT/.tmp/ansible-test/ansible_collections"
DEST="$WORK/dok/databases"
KUBERNETES_CORE="$ROOT/.collections/ansible_collections/kubernetes/core"

die() { printf 'sanity: ERROR: %s\n' "$*" >&2; exit 1; }

[ -x "$VENV/bin/ansible-test" ] || die "$VENV/bin/ansible-test missing; run 'make setup' first"
[ -f "$KUBERNETES_CORE/MANIFEST.json" ] || die "kubernetes.core missing from $KUBERNETES_CORE; run 'make setup' first"

# `--venv` bootstraps pip in each sanity virtualenv with a get-pip script that ansible-test downloads
# and caches under the name below. Where that download is blocked, a script that installs pip from
# the wheel bundled with ensurepip does the same job.
pip_version=$("$VENV/bin/python" - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages


class Python:
    version = "3.11"


print(get_venv_packages(Python())["pip"])
PY
)
get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
marker='dok.databases: ensurepip bootstrap'
if [ -f "$get_pip" ] && ! grep -q "$marker" "$get_pip"; then
    echo "sanity: using the existing $get_pip"
else
    mkdir -p "$(dirname "$get_pip")"
    cat >"$get_pip.$$" <<PY
"""Install pip from ensurepip's bundled wheel, then run \`pip install\` with the get-pip arguments.

$marker (stands in for the get-pip script ansible-test downloads).
"""
import subprocess
import sys


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    packages = [arg.split("=")[0].lower() for arg in args if not arg.startswith("-")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    if "--no-setuptools" in sys.argv and "setuptools" not in packages:
        subprocess.check_call([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", "setuptools"])
    if packages:
        subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    main()
PY
    # Written aside and moved, so that a sanity run in another checkout never reads half a file.
    if cmp -s "$get_pip.$$" "$get_pip"; then rm -f "$get_pip.$$"; else mv -f "$get_pip.$$" "$get_pip"; fi
fi

# One sanity run per checkout at a time: the copy below is shared.
mkdir -p "$ROOT/.tmp"
exec 9>"$ROOT/.tmp/ansible-test.lock"
if ! flock -n 9; then
    echo "sanity: another sanity run uses $WORK; waiting for it"
    flock 9
fi

rm -rf "$DEST" "$WORK/kubernetes"
mkdir -p "$DEST" "$WORK/kubernetes"
(
    cd "$ROOT"
    { git ls-files -z; git ls-files -z --others --exclude-standard; } |
        while IFS= read -r -d '' path; do
            [ -e "$path" ] && printf '%s\0' "$path"
        done
) | tar -C "$ROOT" --null --no-recursion -T - -cf - | tar -C "$DEST" -xf -
cp -a "$KUBERNETES_CORE" "$WORK/kubernetes/core"

cd "$DEST"
# ansible-test lists files with git from the nearest .git upwards, which would be this checkout's,
# where .tmp is ignored: give the copy its own (empty) repository, its files count as untracked.
git init -q .
export PATH="$VENV/bin:$PATH"
exec "$VENV/bin/ansible-test" sanity --venv --python 3.11 --color no "$@"
