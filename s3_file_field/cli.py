"""The `s3ff` console script. Apart from the client package, so that an install without the
`client` extra says what is missing instead of failing on an import."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from .client.cli import run
    except ImportError as error:
        print(
            f"s3ff: {error.name or 'a module'} is missing; the command line client needs the "
            "client extra: pip install 's3-file-field[client]'",
            file=sys.stderr,
        )
        return 2
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
