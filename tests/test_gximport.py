"""GX imported with SciPy's statistics and Altair deferred (expectations/gximport.py), in a fresh
interpreter: neither is loaded by the import nor by a validation of the sample warehouse, and both
still work when something uses them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = "run-gximport"

PROBE = r"""
import importlib.util, json, math, sys
from pathlib import Path

from expectations.gximport import DEFERRED, import_gx

def loaded(name):
    # A deferred module has our loader as its __getattr__ until its first use, and none of the
    # names of its code.
    module = sys.modules[name]
    return "__getattr__" not in vars(module) or vars(module)["__getattr__"].__name__ != "load_on_first_use"

gx = import_gx()
from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
out = {"after_import": {name: loaded(name) for name in DEFERRED},
       "gx_holds_the_lazy_module": kl.stats is sys.modules["scipy.stats"]}

from expectations.runner import validate
from warehouse.db import connect
con = connect(Path(sys.argv[1]), init_schema=False)
summary = validate(con, sys.argv[3], Path(sys.argv[2]))
con.close()
out["checks"] = len(summary.outcomes)
out["after_validation"] = {name: loaded(name) for name in DEFERRED}

# Used, each loads: SciPy's entropy through the module GX holds, an Altair chart.
p, q = [0.5, 0.5], [0.25, 0.75]
out["entropy"] = kl.stats.entropy(p, q)
out["expected_entropy"] = sum(a * math.log(a / b) for a, b in zip(p, q))
import altair
out["chart"] = altair.Chart().mark_point().to_dict()["mark"]["type"]
out["after_use"] = {name: loaded(name) for name in DEFERRED}
print("PROBE " + json.dumps(out))
"""


def test_gx_imports_and_validates_without_scipy_stats_or_altair_which_load_when_used(
        tmp_path, sample_warehouse):
    db = sample_warehouse(RUN, tmp_path)
    proc = subprocess.run([sys.executable, "-c", PROBE, str(db), str(tmp_path), RUN], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("PROBE "))
    out = json.loads(line.removeprefix("PROBE "))
    assert out["after_import"] == {"scipy.stats": False, "altair": False}
    assert out["gx_holds_the_lazy_module"] is True
    assert out["checks"] >= 10
    assert out["after_validation"] == {"scipy.stats": False, "altair": False}
    assert abs(out["entropy"] - out["expected_entropy"]) < 1e-12
    assert out["chart"] == "point"
    assert out["after_use"] == {"scipy.stats": True, "altair": True}
