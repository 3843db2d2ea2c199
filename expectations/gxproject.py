"""The GX file context of a data dir (``<data dir>/gx``) and the objects each suite runs with.

One pandas data source, one DataFrame asset, expectation suite, validation definition and
checkpoint per suite, written when they change (GX's add_or_update rewrote all of them every run),
and a Data Docs site whose views share compiled templates (expectations/docviews.py). Imports GX
only when a project is opened.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

from expectations.checks import Check

log = logging.getLogger(__name__)


def _unreadable() -> tuple[type[Exception], ...]:
    """What GX raises reading a stored suite, validation definition or checkpoint whose file is
    damaged: bad JSON and pydantic errors (ValueError), marshmallow schema errors, an empty
    suite file (TypeError). A missing one raises DataContextError, handled apart."""
    from marshmallow.exceptions import MarshmallowError

    return (ValueError, TypeError, MarshmallowError)


class GxProject:
    """The GX file context (under root/gx) and the objects of each suite."""

    def __init__(self, root: Path):
        from expectations.gximport import import_gx

        gx = import_gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.gx = gx
        self.context = gx.get_context(mode="file", project_root_dir=str(root))
        _drop_unused_config_variables(Path(self.context.root_directory))
        bars = self.context.variables.progress_bars  # an object when set, a dict once reloaded
        enabled = bars is None or (bars.get("globally", True) if isinstance(bars, dict)
                                   else bars.globally)
        if enabled:  # GX's tqdm bars would spill over the CLI's own progress display
            self.context.variables.progress_bars = ProgressBarsConfig(globally=False,
                                                                      metric_calculations=False)
            self.context.variables.save()
        self._use_shared_templates()
        self.source = self._pandas_source("warehouse")
        self.built: list = []  # identifiers of the suites and results this run wrote

    def _use_shared_templates(self) -> None:
        """Data Docs sites render with expectations/docviews.py's views (GX's, compiling each page
        template once per process); a project that predates them is updated once."""
        from expectations.docviews import use_shared_templates

        for name, site in self.context.list_data_docs_sites().items():
            site = copy.deepcopy(dict(site))
            if use_shared_templates(site):
                self.context.update_data_docs_site(name, site)

    def _pandas_source(self, name: str):
        """The pandas data source, as stored. (add_or_update would replace it with one that has no
        assets, and adding each suite's asset back rewrote great_expectations.yml 28 times a run.)"""
        try:
            source = self.context.data_sources.get(name)
        except KeyError:
            source = None
        if source is None or getattr(source, "type", None) != "pandas":
            source = self.context.data_sources.add_or_update_pandas(name)
        return source

    def run_suite(self, suite_name: str, checks: list[tuple[Check, object]], frame, sample_rows: int):
        """GX's results of validating ``frame`` (as GX is to see it) with the checks' expectations,
        listing up to ``sample_rows`` unexpected values."""
        gx = self.gx
        try:
            asset = self.source.get_asset(suite_name)
        except LookupError:
            asset = self.source.add_dataframe_asset(suite_name)
        try:
            batch = asset.get_batch_definition("run")
        except KeyError:
            batch = asset.add_batch_definition_whole_dataframe("run")
        for check, expectation in checks:
            expectation.meta = {"id": check.id, "summary": check.summary}
        # Given to the constructor, not add_expectation: that one writes each expectation into
        # the stored suite of the same name at once (GX takes the name for a saved suite).
        suite = gx.ExpectationSuite(name=suite_name, expectations=[e for _, e in checks])
        result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": ["description"],
                         "partial_unexpected_count": sample_rows}
        checkpoint = self._stored_checkpoint(suite_name, suite, batch, result_format)
        if checkpoint is None:  # new, changed or unreadable: write all three
            self._drop_unreadable(suite_name)
            suite = self.context.suites.add_or_update(suite)
            definition = self.context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))
            checkpoint = self.context.checkpoints.add_or_update(gx.Checkpoint(
                name=suite_name, validation_definitions=[definition], actions=[],
                result_format=result_format))
        result = checkpoint.run(batch_parameters={"dataframe": frame})
        self.built += [suite_identifier(suite_name), *result.run_results]
        return [r for run in result.run_results.values() for r in run.results]

    def _stored_checkpoint(self, name: str, suite, batch, result_format: dict):
        """The stored checkpoint of suite ``name`` if it, its validation definition and its suite
        are what this run would write; else None. Writing them every run (GX's add_or_update
        rewrites every file, and a suite's expectations compare unequal to stored ones by their
        ids) took about half of a small warehouse's validation."""
        from great_expectations.exceptions import DataContextError

        try:
            checkpoint = self.context.checkpoints.get(name)
        except (DataContextError, *_unreadable()) as exc:  # missing, or a file GX cannot read
            log.debug("GX objects of suite %s are written: %s: %s", name, type(exc).__name__, exc)
            return None
        definitions = checkpoint.validation_definitions
        if (checkpoint.actions or checkpoint.result_format != result_format
                or len(definitions) != 1 or definitions[0] is None):
            return None
        definition = definitions[0]
        data = definition.data
        if (definition.name != name or data.name != batch.name or data.id != batch.id
                or data.data_asset.name != batch.data_asset.name
                or data.data_asset.datasource.name != batch.data_asset.datasource.name
                or _suite_content(definition.suite) != _suite_content(suite)):
            return None
        return checkpoint

    def _drop_unreadable(self, name: str) -> None:
        """Remove the stored suite, validation definition or checkpoint ``name`` if GX cannot read
        it (a damaged or emptied file): GX's add_or_update reads the stored object first and would
        fail on it, failing the check, where writing it anew repairs the project."""
        from great_expectations.exceptions import DataContextError

        context = self.context
        for kind, factory, store in (
                ("suite", context.suites, context.expectations_store),
                ("validation definition", context.validation_definitions,
                 context.validation_definition_store),
                ("checkpoint", context.checkpoints, context.checkpoint_store)):
            try:
                if factory.get(name) is not None:  # an empty definition file reads as None
                    continue
                problem = "empty file"
            except DataContextError:
                continue  # not stored: add_or_update adds it
            except _unreadable() as exc:
                problem = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
            log.warning("the stored GX %s %s is unreadable (%s); writing it anew", kind, name,
                        problem)
            store.remove_key(store.get_key(name=name, id=None))

    def prune_results(self, keep: int) -> int:
        """Delete all but the newest ``keep`` (≥ 1) validation results of each suite from the GX
        store, with their Data Docs pages; returns how many were deleted. GX rebuilds the site's
        index from every stored result, reading each: without this a scheduled hourly run's
        validation grows by ≈ 40 ms a run, without end (issue 17)."""
        if keep < 1:
            raise ValueError(f"data_docs_runs must be at least 1, not {keep}")
        store = self.context.validation_results_store
        by_suite: dict[str, list] = {}
        for key in store.list_keys():
            by_suite.setdefault(key.expectation_suite_identifier.name, []).append(key)
        sites = self.context.get_docs_sites_urls()  # None before the site's first build
        site = (Path(sites[0]["site_url"].removeprefix("file://")).parent
                if sites and sites[0]["site_url"] else None)
        results_root = Path(self.context.root_directory) / "uncommitted" / "validations"
        removed = 0
        for keys in by_suite.values():
            keys.sort(key=lambda k: k.to_tuple()[-2])  # run time, as 20261207T051151.604536Z
            for key in keys[:-keep]:
                store.remove_key(key)
                parts = key.to_tuple()  # the layout of both the store and the site's pages
                _remove_empty_parents(results_root.joinpath(*parts[:-1]), results_root)
                if site is not None:
                    page = site.joinpath("validations", *parts[:-1], parts[-1] + ".html")
                    page.unlink(missing_ok=True)
                    _remove_empty_parents(page.parent, site / "validations")
                removed += 1
        if removed:
            log.info("deleted %d GX validation result(s) and their Data Docs pages (kept the "
                     "newest %d of each suite)", removed, keep)
        return removed

    def build_docs(self) -> Path:
        """Render this run's suites and validation results (and the index); the pages of earlier
        runs are already there and never change. A site without an index is built in full."""
        sites = self.context.get_docs_sites_urls()  # None before the site's first build
        if sites and sites[0]["site_url"] and self.built:
            self.context.build_data_docs(resource_identifiers=self.built)
        else:
            self.context.build_data_docs()
            sites = self.context.get_docs_sites_urls()
        return Path(sites[0]["site_url"].removeprefix("file://"))


def _remove_empty_parents(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents while they are empty, up to (not including) ``root``."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone): the parents are not empty either
            return
        folder = folder.parent


def _suite_content(suite) -> dict:
    """A suite as stored, without the ids GX gives it and each expectation when it is written."""
    content = suite.to_json_dict()
    content.pop("id", None)
    content["expectations"] = [{k: v for k, v in e.items() if k != "id"}
                               for e in content.get("expectations") or []]
    return content


def suite_identifier(name: str):
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    return ExpectationSuiteIdentifier(name=name)


def _drop_unused_config_variables(gx_root: Path) -> None:
    """Remove GX's config_variables.yml while it holds only GX's template (comments and an
    instance id): GX reads and parses that file again on every access to a setting — about 600
    times a run, a second or more — and treats a missing file as no variables. A file with
    variables of someone's own is kept."""
    path = gx_root / "uncommitted" / "config_variables.yml"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    if all(not line.strip() or line.lstrip().startswith("#") or line.startswith("instance_id:")
           for line in lines):
        path.unlink(missing_ok=True)
