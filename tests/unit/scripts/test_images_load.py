# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dok_load_image of tests/images/lib.sh, with ctr replaced by a stub that models each node's containerd.

A node taken down (the toolkit's node-down.sh, or the spare node a target added and removed) leaves its containerd
socket behind; loading must go on for the nodes that answer and say which one it skipped, and fail loudly when a
node that answers refuses the image.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
LIB = os.path.join(ROOT, "tests", "images", "lib.sh")

# ctr -a SOCK -n k8s.io images ls name==REF | images import TAR | version
# A socket answers when its node's directory holds a file "up"; "refuse" makes an import fail; "image" is the digest
# the node holds. Every call is logged as "<node> <verb>".
CTR = r'''#!/bin/bash
sock=$2; node=$(basename "$(dirname "$sock")")
shift 2; [ "$1" = -n ] && shift 2
echo "$node $1 $2" >>"$STUB_LOG"
[ -f "$(dirname "$sock")/up" ] || { echo "ctr: failed to dial \"$sock\": connection refused" >&2; exit 1; }
case "$1 $2" in
  "version ") echo "Server: ok" ;;
  "images ls")
    printf 'REF TYPE DIGEST SIZE PLATFORMS LABELS\n'
    [ -f "$(dirname "$sock")/image" ] && printf 'dok.test/mariadb:10.11 application/x %s 1 linux/amd64 -\n' "$(cat "$(dirname "$sock")/image")"
    exit 0 ;;
  "images import")
    [ -f "$(dirname "$sock")/refuse" ] && { echo "ctr: content digest mismatch" >&2; exit 1; }
    echo sha256:new >"$(dirname "$sock")/image" ;;
  *) exit 2 ;;
esac
'''


@pytest.fixture
def cluster(tmp_path):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "ctr").write_text(CTR)
    (stubs / "ctr").chmod(0o755)
    run_dir = tmp_path / "run"
    log = tmp_path / "calls.log"
    log.write_text("")
    tar = tmp_path / "mariadb-10.11-abc.tar"
    tar.write_text("image")

    class Cluster(object):
        def node(self, index, up=True, image=None, refuse=False):
            node_dir = run_dir / ("node-%d" % index)
            node_dir.mkdir(parents=True)
            (node_dir / "containerd.sock").write_text("")
            if up:
                (node_dir / "up").write_text("")
            if image:
                (node_dir / "image").write_text(image + "\n")
            if refuse:
                (node_dir / "refuse").write_text("")

        def image(self, index):
            path = run_dir / ("node-%d" % index) / "image"
            return path.read_text().strip() if path.exists() else None

        def digest(self, value):
            (tmp_path / (tar.name + ".digest")).write_text(value + "\n")

        def recorded_digest(self):
            path = tmp_path / (tar.name + ".digest")
            return path.read_text().strip() if path.exists() else None

        def calls(self, verb):
            return [line.split()[0] for line in log.read_text().splitlines() if line.split()[1:] == verb.split()]

        def load(self):
            env = dict(os.environ, PATH="%s:%s" % (stubs, os.environ["PATH"]), STUB_LOG=str(log),
                       DOK_NODE_RUN_DIR=str(run_dir))
            return subprocess.run(["bash", "-c", 'set -euo pipefail; . "$1"; dok_load_image mariadb-10.11 "$2"; '
                                   'echo returned', "bash", LIB, str(tar)],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                                  check=False)

    return Cluster()


def test_a_node_left_down_is_skipped_and_named_and_the_others_get_the_image(cluster):
    cluster.node(0)
    cluster.node(1)
    cluster.node(2)
    cluster.node(3, up=False)
    cluster.digest("sha256:old")
    result = cluster.load()
    assert result.returncode == 0 and result.stdout == "returned\n", result.stderr
    assert [cluster.image(i) for i in range(4)] == ["sha256:new", "sha256:new", "sha256:new", None]
    assert cluster.calls("images import") == ["node-0", "node-1", "node-2"]
    assert "node-3: its containerd does not answer (node down); not loaded there" in result.stderr
    assert cluster.recorded_digest() == "sha256:new"


def test_a_node_down_without_a_recorded_digest_is_skipped_too(cluster):
    cluster.node(0)
    cluster.node(1, up=False)
    result = cluster.load()
    assert result.returncode == 0, result.stderr
    assert cluster.calls("images import") == ["node-0"]
    assert cluster.recorded_digest() == "sha256:new"


@pytest.mark.parametrize("second, imported", [("sha256:old", ["node-1"]), ("sha256:new", [])])
def test_only_nodes_without_the_recorded_image_are_loaded(cluster, second, imported):
    cluster.node(0, image="sha256:new")
    cluster.node(1, image=second)
    cluster.digest("sha256:new")
    result = cluster.load()
    assert result.returncode == 0, result.stderr
    assert cluster.calls("images import") == imported
    assert cluster.image(1) == "sha256:new"
    assert ("already loaded on every node that answers" in result.stderr) == (not imported)


def test_no_node_answering_is_a_clear_error(cluster):
    cluster.node(0, up=False)
    result = cluster.load()
    assert result.returncode == 1 and result.stdout == ""
    assert "images: error: no node of the offline cluster answers" in result.stderr
    assert cluster.calls("images import") == []


def test_no_node_at_all_is_a_clear_error(cluster):
    result = cluster.load()
    assert result.returncode == 1 and result.stdout == ""
    assert "images: error: no node of the offline cluster is running" in result.stderr


def test_a_node_that_answers_but_refuses_the_image_fails_loudly(cluster):
    cluster.node(0)
    cluster.node(1, refuse=True)
    result = cluster.load()
    assert result.returncode == 1 and result.stdout == ""
    assert "ctr: content digest mismatch" in result.stderr
    assert "images: error: mariadb-10.11: loading into node-1 failed" in result.stderr
    assert cluster.recorded_digest() is None
