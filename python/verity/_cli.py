"""The `verity` console script of a pip-installed package: runs the bundled C++ binary (verity/bin/verity)."""

import os
import sys
from pathlib import Path


def main() -> None:
    binary = Path(__file__).resolve().parent / "bin" / "verity"
    if not binary.exists():
        sys.exit(f"verity: {binary} is missing; reinstall the package (pip install --no-build-isolation .)")
    os.execv(str(binary), [str(binary), *sys.argv[1:]])


if __name__ == "__main__":
    main()
