"""`pip install --no-build-isolation .` into a fresh, bare virtual environment (its own pip and setuptools
from ensurepip, Debian's `wheel` found by python/build_backend; nothing downloaded): the extension is
built by CMake (setup.py), `import verity` works outside the source tree and the `verity` command runs
the bundled binary.

To keep ctest fast the CMake build folder of this build is reused (VERITY_CMAKE_BUILD_DIR); a plain
`pip install .` configures and builds its own (build/pip-<python tag>), which CI's fresh machine does.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def test_pip_install_into_a_fresh_venv(tmp_path, verity_binary):
    python = "/usr/bin/python3"
    if not Path(python).exists() or subprocess.run([python, "-c", "import venv, ensurepip, wheel"],
                                                   capture_output=True).returncode != 0:
        pytest.skip("needs Debian's python3-venv, python3-setuptools and python3-wheel (scripts/install-deps.sh)")
    build_dir = Path(verity_binary).resolve().parent
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    env = dict(os.environ, VERITY_CMAKE_BUILD_DIR=str(build_dir), PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-build-isolation", str(ROOT)],
                             capture_output=True, text=True, env=env, timeout=1200)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    probe = ("import verity, os; print(verity.__file__); print(verity.families()[0]); "
             "t = verity.generate('syllogism', 1, seed=1, level=1)[0]; "
             "print(verity.score(t, '<answer>' + t['answer'] + '</answer>')['reward'])")
    result = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    module_path, _, reward = result.stdout.split("\n")[:3]
    assert str(venv) in module_path and reward == "1.0"
    listing = subprocess.run([str(venv / "bin" / "verity"), "list"], capture_output=True, text=True, env=env,
                             cwd=tmp_path, timeout=60)
    assert listing.returncode == 0 and "syllogism" in listing.stdout, listing.stderr
    # the shared libraries it links are found without LD_LIBRARY_PATH
    ext = next((venv / "lib").glob("python3*/site-packages/verity/_verity*.so"))
    assert "not found" not in subprocess.run(["ldd", str(ext)], capture_output=True, text=True).stdout
