"""pip's build backend for Verity: setuptools.build_meta (setup.py builds the C++ half with CMake),
made to work offline with --no-build-isolation in a fresh virtual environment.

setuptools older than 70.1 (Debian 12 has 66) builds wheels through the separate `wheel` package, which
a fresh `python3 -m venv` does not contain. When it is missing here, Debian's copy (python3-wheel) is
used for the build only; when there is none either, the error says what to install.
"""

import os
import sys

try:
    import wheel  # noqa: F401
except ImportError:
    _debian = "/usr/lib/python3/dist-packages"
    if os.path.isdir(os.path.join(_debian, "wheel")):
        sys.path.append(_debian)  # after the environment's own packages: only `wheel` is taken from it
    else:
        sys.exit("building verity needs the `wheel` package: apt-get install python3-wheel (Debian) or "
                 "pip install wheel, then pip install --no-build-isolation . again")

from setuptools.build_meta import *  # noqa: F401,F403,E402
from setuptools.build_meta import __all__  # noqa: F401,E402
