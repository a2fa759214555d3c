"""Make `ansible_collections.dok.databases` importable when pytest runs from a plain checkout."""
import importlib.util
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.environ.get("DOK_COLLECTIONS_ROOT", os.path.join(ROOT, ".collections"))

if os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections")) and COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


def _importable(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


if os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections")):
    # The collection loader, as ansible-playbook installs it: templates that call the collection's own filters
    # (dok.databases.*) render in the unit tests as they do in a run.
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([COLLECTIONS])

if not _importable("ansible_collections.dok.databases"):
    raise pytest.UsageError(
        "ansible_collections.dok.databases is not importable from %s (or sys.path): run `make setup`, "
        "or set DOK_COLLECTIONS_ROOT to a directory that holds ansible_collections/dok/databases" % COLLECTIONS
    )
