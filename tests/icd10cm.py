"""ICD-10-CM look-ups against the code list `simple-icd-10-cm` bundles, in a child process: the
package holds the whole list in memory (about 180 MB), which would stay in the test process and be
inherited by every child it forks afterwards (the memory limits of tests/test_hostile.py)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

_LOOKUP = """
import json, sys
import simple_icd_10_cm as icd
codes = json.load(sys.stdin)
json.dump({code: {"description": icd.get_description(code) if icd.is_valid_item(code) else None,
                  "descendants": icd.get_descendants(code) if icd.is_valid_item(code) else []}
           for code in codes}, sys.stdout)
"""


def lookup(codes: set[str]) -> dict[str, dict[str, object]]:
    """For each code: its description in the code list (None when it is not a code there) and the
    codes below it. Skips the test when the package is not installed."""
    if importlib.util.find_spec("simple_icd_10_cm") is None:
        pytest.skip("simple-icd-10-cm (the test extra) is not installed")
    done = subprocess.run([sys.executable, "-c", _LOOKUP], input=json.dumps(sorted(codes)), capture_output=True,
                          text=True, check=True)
    result: dict[str, dict[str, object]] = json.loads(done.stdout)
    return result
