"""Recorded CLI output fixtures: paths, contents and their SOURCES.yml entries."""
import os

import yaml

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures")


def fixture_path(engine, name):
    return os.path.join(FIXTURES, engine, name)


def load(engine, name):
    with open(fixture_path(engine, name), encoding="utf-8") as handle:
        return handle.read()


def fixture_names(engine, prefix="", folder=""):
    path = os.path.join(FIXTURES, engine, folder)
    if not os.path.isdir(path):
        return []
    return sorted(os.path.join(folder, n) if folder else n for n in os.listdir(path)
                  if n.startswith(prefix) and not n.startswith("SOURCES") and os.path.isfile(os.path.join(path, n)))


def sources(engine, folder=""):
    path = os.path.join(FIXTURES, engine, folder, "SOURCES.yml")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}
