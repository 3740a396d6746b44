"""The pure JavaScript modules (queue order, event application, SLA countdown, i18n, chat and
report helpers) run under ``node --test``. Outside CI the test skips, saying why, without Node."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def test_javascript_modules_pass_their_node_tests():
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("CI must run the JavaScript module tests: node is not installed")
        pytest.skip("node is not installed (needed for the JavaScript module tests)")
    files = sorted(str(p) for p in HERE.glob("*.test.mjs"))
    assert files, "no JavaScript tests found"
    result = subprocess.run(
        [node, "--test", *files], capture_output=True, text=True, timeout=120, cwd=HERE
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
