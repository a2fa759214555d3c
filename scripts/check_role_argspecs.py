#!/usr/bin/env python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check that every role's meta/argument_specs.yml and defaults/main.yml describe the same variables.

For each role: every default is documented (in some entry point) with the same default value and a
matching type, every documented default exists in defaults/main.yml, required options have no default,
and all public variable names start with the role name. Exit status 1 lists every mismatch.
"""
import argparse
import os
import sys

import yaml

TYPE_CHECKS = {
    "str": lambda v: isinstance(v, str),
    "path": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict),
    "raw": lambda v: True,
}


def is_template(value):
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def spec_options(specs):
    """Return {option name: (entry point, option spec)} over all entry points, first entry point wins."""
    options = {}
    for entry_point, entry in sorted((specs or {}).get("argument_specs", {}).items(), key=lambda item: item[0] != "main"):
        for name, option in ((entry or {}).get("options") or {}).items():
            options.setdefault(name, (entry_point, option or {}))
    return options


def check_role(role, defaults, specs):
    """Return a list of problems (strings) for one role given its parsed defaults and argument specs."""
    problems = []
    defaults = defaults or {}
    if not isinstance(defaults, dict):
        return ["defaults/main.yml: expected a mapping of variables, found %s" % type(defaults).__name__]
    if not isinstance(specs, dict) or not isinstance(specs.get("argument_specs"), dict):
        return ["meta/argument_specs.yml: expected a top-level 'argument_specs' mapping"]
    if "main" not in specs["argument_specs"]:
        problems.append("meta/argument_specs.yml: no 'main' entry point")

    options = spec_options(specs)
    prefix = role + "_"

    for name in sorted(defaults):
        if not name.startswith(prefix):
            problems.append("defaults/main.yml: %s does not start with the role prefix '%s'" % (name, prefix))
        if name not in options:
            problems.append("defaults/main.yml: %s is not documented in meta/argument_specs.yml" % name)

    for name, (entry_point, option) in sorted(options.items()):
        where = "meta/argument_specs.yml: %s.%s" % (entry_point, name)
        if not name.startswith(prefix):
            problems.append("%s does not start with the role prefix '%s'" % (where, prefix))
        option_type = option.get("type", "str")
        if option_type not in TYPE_CHECKS:
            problems.append("%s has unknown type %r" % (where, option_type))
            option_type = "raw"
        if name not in defaults:
            if "default" in option:
                problems.append("%s documents default %r but defaults/main.yml has no %s" % (where, option["default"], name))
            continue
        value = defaults[name]
        if option.get("required"):
            problems.append("%s is required but defaults/main.yml sets it to %r" % (where, value))
            continue
        if "default" not in option:
            if value is not None:
                problems.append("%s has no 'default'; defaults/main.yml sets %r" % (where, value))
        elif option["default"] != value:
            problems.append("%s documents default %r, defaults/main.yml sets %r" % (where, option["default"], value))
        if value is not None and not is_template(value) and not TYPE_CHECKS[option_type](value):
            problems.append("%s is type %s, defaults/main.yml sets %r (%s)" % (where, option_type, value, type(value).__name__))
        choices = option.get("choices")
        if choices and value is not None and not is_template(value):
            values = value if option_type == "list" else [value]
            for item in values:
                if item not in choices:
                    problems.append("%s default %r is not one of the choices %r" % (where, item, choices))
    return problems


def load_yaml(path):
    with open(path) as stream:
        return yaml.safe_load(stream)


def find_spec_file(role_dir):
    for name in ("argument_specs.yml", "argument_specs.yaml"):
        path = os.path.join(role_dir, "meta", name)
        if os.path.isfile(path):
            return path
    return None


def check_roles_dir(roles_dir):
    """Return ({role: [problems]}, number of roles checked) for every role under roles_dir."""
    results = {}
    if not os.path.isdir(roles_dir):
        return results
    for role in sorted(os.listdir(roles_dir)):
        role_dir = os.path.join(roles_dir, role)
        if not os.path.isdir(role_dir):
            continue
        defaults_path = os.path.join(role_dir, "defaults", "main.yml")
        spec_path = find_spec_file(role_dir)
        if not os.path.isfile(defaults_path) and spec_path is None:
            continue
        if spec_path is None:
            results[role] = ["meta/argument_specs.yml is missing; every role documents its variables there"]
            continue
        try:
            defaults = load_yaml(defaults_path) if os.path.isfile(defaults_path) else {}
            specs = load_yaml(spec_path)
        except yaml.YAMLError as exc:
            results[role] = ["cannot parse YAML: %s" % exc]
            continue
        results[role] = check_role(role, defaults, specs)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roles_dir", nargs="?", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "roles"))
    args = parser.parse_args(argv)

    results = check_roles_dir(args.roles_dir)
    failed = 0
    for role, problems in results.items():
        for problem in problems:
            print("roles/%s/%s" % (role, problem))
        failed += bool(problems)
    print("checked %d role(s), %d with mismatches" % (len(results), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
