#!/usr/bin/env bash
# Prepare a checkout for development and tests: .venv (pinned tools) and .collections
# (kubernetes.core and community.crypto plus a link to this checkout as dok.databases). Safe to re-run: each step is
# skipped when what it would produce is already there and matches.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
VENV="$ROOT/.venv"
COLLECTIONS="$ROOT/.collections"
CACHE="$ROOT/.tmp/setup"
ANSIBLE_PACKAGE_VERSION="${DOK_ANSIBLE_PACKAGE_VERSION:-12.3.0}"
GALAXY_TIMEOUT="${DOK_GALAXY_TIMEOUT:-30}"
KUBERNETES_CORE_MIN="6.0.0"
COMMUNITY_CRYPTO_MIN="2.22.0"

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

setup_venv() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        log "virtualenv $VENV exists (Python $("$VENV/bin/python" -c 'import platform; print(platform.python_version())'))"
    else
        [ ! -e "$VENV" ] || die "$VENV exists but is not a Python 3.11 virtualenv; remove it and run again"
        local python
        python=$(find_python) || die "Python 3.11 not found (tried \$PYTHON, python3.11, python3); install it (Debian 12: apt-get install python3 python3-venv)"
        log "creating virtualenv $VENV with $python"
        "$python" -m venv "$VENV" || die "'$python -m venv' failed; on Debian install python3-venv"
    fi

    local stamp="$VENV/.dok-requirements-dev.sha256" wanted
    wanted=$(sha256sum "$ROOT/requirements-dev.txt" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        log "requirements-dev.txt already installed"
    else
        log "installing requirements-dev.txt into $VENV"
        "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet -r "$ROOT/requirements-dev.txt"
        printf '%s\n' "$wanted" >"$stamp"
    fi
}

# Prints the installed version of collection $1 (namespace/name) when it satisfies the minimum $2, else fails.
installed_collection() {
    "$VENV/bin/python" - "$COLLECTIONS/ansible_collections/$1/MANIFEST.json" "$2" <<'PY'
import json
import sys

try:
    with open(sys.argv[1]) as manifest:
        version = json.load(manifest)["collection_info"]["version"]
except (OSError, ValueError, KeyError):
    sys.exit(1)


def key(text):
    return tuple(int(part) for part in text.split("-")[0].split(".")[:3])


if key(version) < key(sys.argv[2]):
    sys.exit(1)
print(version)
PY
}

installed_collections() {
    local core crypto
    core=$(installed_collection kubernetes/core "$KUBERNETES_CORE_MIN") || return 1
    crypto=$(installed_collection community/crypto "$COMMUNITY_CRYPTO_MIN") || return 1
    printf 'kubernetes.core %s, community.crypto %s\n' "$core" "$crypto"
}

install_collections_from_galaxy() {
    log "installing kubernetes.core and community.crypto from Galaxy (timeout ${GALAXY_TIMEOUT}s)"
    timeout "$GALAXY_TIMEOUT" "$VENV/bin/ansible-galaxy" collection install --timeout "$GALAXY_TIMEOUT" \
        -r "$ROOT/requirements.yml" -p "$COLLECTIONS" >"$CACHE/galaxy.log" 2>&1
}

# Offline path: the `ansible` package on PyPI bundles kubernetes.core and community.crypto; install them from
# that wheel.
install_collections_from_wheel() {
    local wheel="$CACHE/ansible-$ANSIBLE_PACKAGE_VERSION-py3-none-any.whl"
    local unpacked="$CACHE/ansible-$ANSIBLE_PACKAGE_VERSION"
    if [ ! -f "$wheel" ]; then
        log "Galaxy not reachable; downloading ansible==$ANSIBLE_PACKAGE_VERSION from the Python package index"
        "$VENV/bin/python" -m pip download --disable-pip-version-check --quiet --no-deps \
            "ansible==$ANSIBLE_PACKAGE_VERSION" -d "$CACHE"
    fi
    [ -f "$wheel" ] || die "pip download did not produce $wheel"
    rm -rf "$unpacked"
    "$VENV/bin/python" - "$wheel" "$unpacked" <<'PY'
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as wheel:
    for prefix in ("ansible_collections/kubernetes/core/", "ansible_collections/community/crypto/"):
        members = [name for name in wheel.namelist() if name.startswith(prefix)]
        if not members:
            sys.exit("%s holds no %s" % (sys.argv[1], prefix))
        wheel.extractall(sys.argv[2], members)
PY
    local collection
    for collection in kubernetes/core community/crypto; do
        log "installing ${collection/\//.} from the ansible $ANSIBLE_PACKAGE_VERSION wheel"
        "$VENV/bin/ansible-galaxy" collection install --force --no-deps \
            "$unpacked/ansible_collections/$collection" -p "$COLLECTIONS" >"$CACHE/wheel-install.log" 2>&1 ||
            { cat "$CACHE/wheel-install.log" >&2; die "ansible-galaxy could not install $collection from $unpacked"; }
    done
    rm -rf "$unpacked"
}

setup_collections() {
    mkdir -p "$COLLECTIONS/ansible_collections/dok" "$CACHE"
    local version
    if version=$(installed_collections); then
        log "$version present in $COLLECTIONS"
    else
        if ! install_collections_from_galaxy; then
            install_collections_from_wheel
        fi
        version=$(installed_collections) ||
            die "kubernetes.core >= $KUBERNETES_CORE_MIN or community.crypto >= $COMMUNITY_CRYPTO_MIN is still missing from $COLLECTIONS (logs in $CACHE)"
        log "$version installed in $COLLECTIONS"
    fi

    local link="$COLLECTIONS/ansible_collections/dok/databases"
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$ROOT" ]; then
        log "$link -> $ROOT present"
    else
        [ ! -e "$link" ] || [ -L "$link" ] || die "$link exists and is not a symlink; remove it and run again"
        ln -sfn "$ROOT" "$link"
        log "linked $link -> $ROOT"
    fi
}

setup_venv
setup_collections
log "done; use: export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS"
