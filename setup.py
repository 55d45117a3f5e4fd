"""Builds the C++ half of the `verity` package with CMake during `pip install .` (see pyproject.toml).

The extension (verity/_verity*.so) and the `verity` binary (verity/bin/verity, run by the `verity`
console script) are built by the project's own CMakeLists.txt with the trainer, tests and benchmarks
off, for the Python that runs pip. Environment:
    VERITY_CMAKE_BUILD_DIR   CMake build folder (default build/pip-<python tag>); reused when configured
    VERITY_CMAKE_ARGS        extra CMake arguments
    VERITY_BUILD_JOBS        parallel jobs (default: the CPU count)
"""

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        tag = sysconfig.get_config_var("SOABI") or f"py{sys.version_info[0]}{sys.version_info[1]}"
        build_dir = Path(os.environ.get("VERITY_CMAKE_BUILD_DIR") or ROOT / "build" / f"pip-{tag}")
        build_dir.mkdir(parents=True, exist_ok=True)
        if shutil.which("cmake") is None:
            sys.exit("building verity needs cmake and the C++ libraries: run scripts/install-deps.sh (Debian 12)")
        if not (build_dir / "CMakeCache.txt").exists():
            configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                         f"-DPython_EXECUTABLE={sys.executable}", "-DVERITY_BUILD_TRAINER=OFF",
                         "-DVERITY_BUILD_TESTS=OFF", "-DVERITY_BUILD_BENCH=OFF", "-DVERITY_BUILD_PYTHON=ON"]
            if shutil.which("ninja"):
                configure += ["-G", "Ninja"]
            configure += shlex.split(os.environ.get("VERITY_CMAKE_ARGS", ""))
            subprocess.run(configure, check=True)
        jobs = os.environ.get("VERITY_BUILD_JOBS") or str(os.cpu_count() or 2)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "verity_python", "verity_cli",
                        "--parallel", jobs], check=True)
        built = list((build_dir / "python" / "verity").glob("_verity*.so"))
        if not built:
            sys.exit(f"the extension was not built in {build_dir / 'python' / 'verity'}: is python3-dev (Python.h) "
                     "and pybind11-dev installed? (CMake printed why above)")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[0], target)
        binary = target.parent / "bin" / "verity"
        binary.parent.mkdir(exist_ok=True)
        shutil.copy2(build_dir / "verity", binary)


setup(ext_modules=[Extension("verity._verity", sources=[])], cmdclass={"build_ext": CMakeBuild},
      options={"build": {"build_base": str(Path("build") / "setuptools")}})
