#!/usr/bin/env python3
"""schema-check.py: validate parlab's JSON documents against results/schema/.

usage: schema-check.py [--schema-dir DIR] FILE...

Each FILE is one document of `parlab ... --format json`; its "kind" picks the schema
(results/schema/<kind>.schema.json), and every schema in the folder is known to the
others by its $id, so they can share definitions (context.schema.json). Exit 0 when
every file validates, 1 when one does not (one line per error: FILE: PATH: what), 64 for
bad usage, 74 for a file that cannot be read.
"""
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    sys.stderr.write("schema-check: python3-jsonschema is missing (scripts/deps.sh test)\n")
    sys.exit(69)

HERE = os.path.dirname(os.path.abspath(__file__))


def load_schemas(folder):
    store = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".schema.json"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                schema = json.load(f)
            jsonschema.Draft202012Validator.check_schema(schema)
            store[schema["$id"]] = schema
            store[name[: -len(".schema.json")]] = schema
    return store


def where(path):
    return "/" + "/".join(str(p) for p in path)


def main(argv):
    folder = os.path.join(HERE, "..", "results", "schema")
    args = argv[1:]
    if len(args) >= 2 and args[0] == "--schema-dir":
        folder, args = args[1], args[2:]
    if not args or args[0].startswith("-"):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 64
    store = load_schemas(folder)
    bad = 0
    for path in args:
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except OSError as e:
            sys.stderr.write("schema-check: %s: %s\n" % (path, e.strerror))
            return 74
        except ValueError as e:
            print("%s: not JSON: %s" % (path, e))
            bad += 1
            continue
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if not isinstance(kind, str) or kind not in store or kind.startswith("urn:"):
            print("%s: /kind: %r has no schema in %s" % (path, kind, folder))
            bad += 1
            continue
        schema = store[kind]
        resolver = jsonschema.RefResolver.from_schema(schema, store=store)
        validator = jsonschema.Draft202012Validator(schema, resolver=resolver)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors:
            print("%s: %s: %s" % (path, where(e.absolute_path), e.message))
        bad += bool(errors)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
