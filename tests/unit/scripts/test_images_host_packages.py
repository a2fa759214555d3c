# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dok_need_packages of tests/images/lib.sh, with dpkg-query, apt-get and id replaced by stubs on PATH."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
LIB = os.path.join(ROOT, "tests", "images", "lib.sh")

STUBS = {
    # Installed: the packages listed in $STUB_INSTALLED; each call is logged.
    "dpkg-query": '''#!/bin/sh
echo "dpkg-query $*" >>"$STUB_LOG"
for p in $STUB_INSTALLED; do
  [ "$p" = "$4" ] && { printf 'install ok installed'; exit 0; }
done
exit 1
''',
    "apt-get": '''#!/bin/sh
echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >>"$STUB_LOG"
[ "$1" != update ] || exit "${STUB_UPDATE_RC:-0}"
''',
    "id": '''#!/bin/sh
echo "$STUB_UID"
''',
}


@pytest.fixture
def run(tmp_path):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, text in STUBS.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    log = tmp_path / "calls.log"
    log.write_text("")

    def run_need(installed, uid="0", update_rc="0", packages="${DOK_IMAGE_HOST_PACKAGES[@]}"):
        env = dict(os.environ, PATH="%s:%s" % (stubs, os.environ["PATH"]), STUB_LOG=str(log),
                   STUB_INSTALLED=installed, STUB_UID=uid, STUB_UPDATE_RC=update_rc)
        result = subprocess.run(["bash", "-c", '. "$1"; dok_need_packages %s; echo returned' % packages, "bash", LIB],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                                check=False)
        calls = [line for line in log.read_text().splitlines() if not line.startswith("dpkg-query")]
        return result, calls

    return run_need


def test_nothing_is_installed_when_every_package_is_there(run):
    result, calls = run("debootstrap debian-archive-keyring")
    assert result.returncode == 0 and result.stdout == "returned\n", result.stderr
    assert calls == []


def test_missing_packages_are_installed_after_apt_get_update(run):
    result, calls = run("debian-archive-keyring")
    assert result.returncode == 0 and result.stdout == "returned\n", result.stderr
    assert calls == ["apt-get update DEBIAN_FRONTEND=noninteractive",
                     "apt-get install -y --no-install-recommends debootstrap DEBIAN_FRONTEND=noninteractive"]
    assert "installing the host's packages: debootstrap" in result.stderr


def test_without_root_nothing_is_installed_and_one_line_says_what_to_run(run):
    result, calls = run("", uid="1000")
    assert result.returncode == 1 and result.stdout == ""
    assert calls == []
    assert result.stderr == ("images: error: building images needs the Debian package(s) debootstrap "
                             "debian-archive-keyring, not installed; run as root: apt-get update && apt-get install -y "
                             "--no-install-recommends debootstrap debian-archive-keyring\n")


def test_a_failed_update_stops_before_installing(run):
    result, calls = run("", update_rc="100")
    assert result.returncode == 1 and result.stdout == ""
    assert calls == ["apt-get update DEBIAN_FRONTEND=noninteractive"]
    assert "apt-get update failed" in result.stderr


def test_the_image_builder_asks_for_debootstrap_and_its_keyring():
    text = open(LIB).read()
    assert "DOK_IMAGE_HOST_PACKAGES=(debootstrap debian-archive-keyring)" in text
    build = text.split("dok_build_image() {", 1)[1]
    assert build.index('dok_need_packages "${DOK_IMAGE_HOST_PACKAGES[@]}"') < build.index("debootstrap --variant")
