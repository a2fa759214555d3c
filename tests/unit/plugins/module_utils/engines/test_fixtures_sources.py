"""Every recorded CLI output names its source and the version it came from."""
import os

import pytest

from engine_fixtures import FIXTURES, fixture_names, sources

FOLDERS = [("cockroachdb", ""), ("kaiwudb", ""), ("cassandra", ""), ("mariadb", "")]


@pytest.mark.parametrize("engine,folder", FOLDERS)
def test_every_fixture_has_a_source(engine, folder):
    names = [os.path.basename(n) for n in fixture_names(engine, folder=folder)]
    if not names:
        pytest.skip("no fixtures recorded in %s/%s yet" % (engine, folder))
    declared = sources(engine, folder)
    assert declared is not None, "%s/%s has fixtures but no SOURCES.yml" % (engine, folder)
    missing = [n for n in names if n not in declared and not n.endswith((".yml", ".md"))]
    assert not missing, "fixtures without a source entry: %s" % missing
    for name in names:
        entry = declared.get(name)
        if entry is None:
            continue
        assert entry.get("source"), "%s has no source" % name
        assert entry.get("command"), "%s has no command" % name


def test_declared_sources_exist():
    for engine in ("cockroachdb", "kaiwudb", "cassandra", "mariadb"):
        for name in sources(engine) or {}:
            assert os.path.exists(os.path.join(FIXTURES, engine, name)), "%s/%s is declared but missing" % (
                engine, name)
