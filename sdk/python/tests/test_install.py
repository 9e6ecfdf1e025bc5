"""The package installs offline, as the README says: pip install --no-build-isolation sdk/python, into a
fresh virtual environment that sees the system's setuptools, then imports from there."""
import os
import shutil
import subprocess
import sys
import tempfile

SDK = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def test_pip_install_offline():
    with tempfile.TemporaryDirectory() as work:
        venv, source = os.path.join(work, "venv"), os.path.join(work, "sdk")
        # A copy: setuptools writes build/ and *.egg-info beside the sources it builds.
        shutil.copytree(SDK, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "tests"))
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True)
        python = os.path.join(venv, "bin", "python")
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-index", "--no-build-isolation", source],
                       check=True, cwd=work)
        out = subprocess.run([python, "-c", "import lmaas, os; print(lmaas.__version__, lmaas.__file__)"],
                             check=True, capture_output=True, text=True, cwd=work).stdout.split()
        assert out[0] == "0.1.0"
        assert out[1].startswith(os.path.realpath(venv)) or out[1].startswith(venv), out
