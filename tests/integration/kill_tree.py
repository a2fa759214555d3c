# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIGKILL a process and all its descendants at once; prints how many were killed.

Ansible's workers start sessions of their own, so killing the process group of `ansible` would leave the module
running; the tree is found by parent pid instead, taken before any kill so that no orphan is re-parented away.
"""
from __future__ import absolute_import, division, print_function

import os
import signal
import sys

__metaclass__ = type


def parents():
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    out[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return out


def main():
    root = int(sys.argv[1])
    if root <= 1:
        sys.exit("refusing to kill pid %d" % root)
    table = parents()
    if root not in table:
        sys.exit("process %d is not running" % root)
    tree = {root}
    while True:
        more = set(p for p, pp in table.items() if pp in tree) - tree
        if not more:
            break
        tree |= more
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    print(len(tree))


if __name__ == "__main__":
    main()
