"""Moves protoc's Python output under a private package.

    localize_imports.py STAGING_DIR PACKAGE_DIR PACKAGE

protoc writes a module for proto/annals/v1/event.proto as annals/v1/event_pb2.py
and makes the modules import each other by their proto paths ("from
grpc.health.v1 import health_pb2"), so used as they are, the generated
grpc/health/v1 would shadow the real `grpc` module and google/rpc would meet
any other google.rpc. This copies every module of STAGING_DIR to the same
relative path under PACKAGE_DIR, rewriting each import of a module that was
generated in STAGING_DIR to go through PACKAGE ("from
annals_client._gen.grpc.health.v1 import health_pb2"), and gives every
directory under PACKAGE_DIR an empty __init__.py. Imports of anything else
(grpc, google.protobuf) are left alone. Exits 1 on a wrong command line.
"""

import pathlib
import re
import sys

_FROM_IMPORT = re.compile(r"^from (?P<package>[\w.]+) import ", re.MULTILINE)


def localize(source: str, staging: pathlib.Path, package: str) -> str:
    """`source` with the imports of modules generated in `staging` prefixed
    by `package`."""

    def rewrite(match: re.Match) -> str:
        generated = staging.joinpath(*match["package"].split("."))
        if not generated.is_dir():
            return match[0]
        return f"from {package}.{match['package']} import "

    return _FROM_IMPORT.sub(rewrite, source)


def main(argv: list) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 1
    staging, package_dir, package = pathlib.Path(argv[1]), pathlib.Path(argv[2]), argv[3]
    for module in sorted(staging.rglob("*.py")):
        target = package_dir / module.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(localize(module.read_text(), staging, package))
    for directory in [package_dir, *package_dir.rglob("*")]:
        if directory.is_dir() and directory.name != "__pycache__":
            (directory / "__init__.py").touch()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
