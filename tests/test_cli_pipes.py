"""`infobox … | head`: a reader that stops early ends the command quietly, as click does."""

from __future__ import annotations

import subprocess
import sys


def test_output_cut_by_the_reader_ends_quietly(tmp_path, sample_warehouse):
    db = sample_warehouse("run-1", tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "sql", "--db", str(db),
                             "select * from range(300000)", "--format", "csv"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"range"
    proc.stdout.close()  # like `| head -1`
    _out, err = proc.communicate(timeout=300)
    assert err.decode() == "" and proc.returncode == 1
    assert not list((tmp_path / "logs").glob("infobox-*.log"))  # no "unexpected error" log
