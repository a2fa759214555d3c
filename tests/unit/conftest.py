"""Make `ansible_collections.dok.databases` importable when pytest runs from a plain checkout."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.environ.get("DOK_COLLECTIONS_ROOT", os.path.join(ROOT, ".collections"))

if os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections")) and COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
