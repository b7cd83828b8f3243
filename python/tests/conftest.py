# Shared fixtures of the Python package's tests; a skipped test fails the run (a missing dependency must not
# pass silently), and so does a run that collects no test (pytest's exit status 5 is not 0 either).
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def pytest_sessionfinish(session, exitstatus):
    rep = session.config.pluginmanager.get_plugin("terminalreporter")
    if rep is not None and rep.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def cli():
    """The CLI to compare with: $ONNXC_CLI, else the repository's build/onnxc."""
    path = Path(os.environ.get("ONNXC_CLI", REPO / "build" / "onnxc"))
    assert path.exists(), "no CLI at %s (build it, or set ONNXC_CLI)" % path

    def run(*args, ok=(0,)):
        p = subprocess.run([str(path), *map(str, args)], capture_output=True, text=True)
        assert p.returncode in ok, "onnxc %s: exit %d\n%s" % (" ".join(map(str, args)), p.returncode, p.stderr)
        return p

    return run
