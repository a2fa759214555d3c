#!/usr/bin/env bash
# Build the collection tarball, install it into an empty path as a user would, and check that
# ansible-doc reads every module from the installed copy.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
VENV="$ROOT/.venv"
OUT="$ROOT/.tmp/build"
INSTALL="$OUT/installed"

die() { printf 'build: ERROR: %s\n' "$*" >&2; exit 1; }

version=$("$VENV/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$ROOT/galaxy.yml")
tarball="$OUT/dok-databases-$version.tar.gz"

rm -rf "$OUT"
mkdir -p "$OUT"
"$VENV/bin/ansible-galaxy" collection build "$ROOT" --output-path "$OUT"
[ -f "$tarball" ] || die "ansible-galaxy did not produce $tarball"

# The dependencies (kubernetes.core, community.crypto) must resolve against installed copies (no Galaxy): offer
# only .collections' copies, never the checkout linked there as dok.databases.
DEPS="$OUT/deps/ansible_collections"
mkdir -p "$DEPS/kubernetes" "$DEPS/community"
ln -s "$ROOT/.collections/ansible_collections/kubernetes/core" "$DEPS/kubernetes/core"
ln -s "$ROOT/.collections/ansible_collections/community/crypto" "$DEPS/community/crypto"
export ANSIBLE_COLLECTIONS_PATH="$INSTALL:$OUT/deps"
"$VENV/bin/ansible-galaxy" collection install --offline "$tarball" -p "$INSTALL"
installed="$INSTALL/ansible_collections/dok/databases"
[ -f "$installed/MANIFEST.json" ] || die "the tarball did not install into $installed"
echo "build: $(tar -tzf "$tarball" | wc -l) entries in $tarball, installed into $installed"

mapfile -t modules < <(find "$installed/plugins/modules" -maxdepth 1 -name '*.py' ! -name '__init__.py' -printf '%f\n' 2>/dev/null | sed 's/\.py$//' | sort)
[ "${#modules[@]}" -gt 0 ] || die "the installed collection has no modules in plugins/modules"

check_doc='
import json
import sys

name, installed = sys.argv[1], sys.argv[2]
doc = json.load(sys.stdin)["dok.databases." + name]["doc"]
if not doc["filename"].startswith(installed + "/"):
    sys.exit("build: ansible-doc read dok.databases.%s from %s, not from the installed tarball" % (name, doc["filename"]))
print("build: ansible-doc dok.databases.%s: %d options, from %s" % (name, len(doc.get("options", {})), doc["filename"]))
'
status=0
for module in "${modules[@]}"; do
    if ! doc=$("$VENV/bin/ansible-doc" --json "dok.databases.$module" 2>&1); then
        printf 'build: ansible-doc dok.databases.%s failed:\n%s\n' "$module" "$doc" >&2
        status=1
    elif ! "$VENV/bin/python" -c "$check_doc" "$module" "$installed" <<<"$doc"; then
        status=1
    fi
done
exit "$status"
