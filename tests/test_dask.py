"""Scale-out: `ingest` with prefect-dask's DaskTaskRunner on a real 2-process LocalCluster yields
exactly the warehouse of a local run."""

from __future__ import annotations

import pytest

from benchmarks.synth import generate
from tests.test_ingest_flow import DATA_TABLES
from warehouse.db import TEXTS_TABLE, connect

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]


def dump_rows(db) -> dict[str, list[tuple]]:
    con = connect(db, read_only=True)
    try:
        out = {}
        for table in (*DATA_TABLES, TEXTS_TABLE):
            catalog, _, name = table.rpartition(".")
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "AND table_catalog = coalesce(nullif(?, ''), current_database()) "
                "AND column_name <> 'run_id' ORDER BY ordinal_position", [name, catalog]).fetchall()]
            out[table] = con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


def test_dask_run_equals_local_run(tmp_path):
    from distributed import LocalCluster

    from flows.ingest import ingest

    dump = tmp_path / "pages.xml"
    generate(dump, pages=3, revisions=40, seed=5)
    ingest(dump=str(dump), db=str(tmp_path / "local.duckdb"), batch_size=10, return_state=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        state = ingest(dump=str(dump), db=str(tmp_path / "dask.duckdb"), batch_size=10,
                       dask_address=cluster.scheduler_address, return_state=True)
        assert state.is_completed(), state.message
        workers_used = len(cluster.scheduler_info["workers"])
    assert workers_used == 2
    local, remote = dump_rows(tmp_path / "local.duckdb"), dump_rows(tmp_path / "dask.duckdb")
    assert len(local["revisions"]) == 120 and len(local["figures"]) > 1000
    for table in DATA_TABLES:
        assert remote[table] == local[table], table
