"""GX Data Docs views that share compiled page templates across the process.

GX's views (great_expectations/render/view/view.py, ``DefaultJinjaView.__init__``) each build a
jinja2 Environment of their own, and GX makes new views for every site build and every lookup of
the site's URL: each validation parsed and compiled the same templates about 60 times, half of the
Data Docs build. The views here are GX's, with one process-wide jinja2 bytecode cache set on their
environment, so a template is compiled once per process (and before the request in the validator
process, see ``warm``). The pages are GX's own, unchanged (tests/test_gx_objects.py compares).

The GX project names these classes in its data_docs_sites (``use_shared_templates``): GX's own
way to choose a site's views. Imports GX: import this module only where GX is wanted.
"""

from __future__ import annotations

import threading
from importlib import resources

import jinja2
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

# The site sections GX builds (site_builder.py, SiteBuilder's default_site_section_builders_config).
SECTIONS = ("expectations", "validations", "profiling")


class ProcessBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the life of the process. jinja2 keys them by template
    name and file and checks the source's checksum, so a changed template is compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with self._lock:
            code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = bucket.bytecode_to_string()
        with self._lock:
            self._code[bucket.key] = code

    def clear(self) -> None:
        with self._lock:
            self._code.clear()

    def __len__(self) -> int:
        return len(self._code)


BYTECODE = ProcessBytecodeCache()


class SharedTemplatesPageView(DefaultJinjaPageView):
    """GX's page view (suite and validation pages), compiling through the process's cache."""

    # GX gives a view the arguments its __init__ names (a project's custom styles and views):
    # spelled out, not *args/**kwargs, or GX would pass none of them.
    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory=custom_styles_directory,
                         custom_views_directory=custom_views_directory)
        self.env.bytecode_cache = BYTECODE


class SharedTemplatesIndexPageView(DefaultJinjaIndexPageView):
    """GX's index page view, compiling through the process's cache."""

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory=custom_styles_directory,
                         custom_views_directory=custom_views_directory)
        self.env.bytecode_cache = BYTECODE


def _view_config(cls: type) -> dict:
    return {"module_name": __name__, "class_name": cls.__name__}


def use_shared_templates(site: dict) -> bool:
    """Name this module's views in one data_docs_sites entry wherever it names no view of its own
    (a project made by GX names none); True when ``site`` was changed. Sections a project turned
    off (GX takes a false or "None"-like value for off) stay off."""
    changed = False
    sections = site.setdefault("site_section_builders", {})
    for name in SECTIONS:
        section = sections.setdefault(name, {})
        if isinstance(section, dict) and "view" not in section:
            section["view"] = _view_config(SharedTemplatesPageView)
            changed = True
    index = site.setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})
    if isinstance(index, dict) and "view" not in index:
        index["view"] = _view_config(SharedTemplatesIndexPageView)
        changed = True
    return changed


def warm() -> int:
    """Compile GX's HTML page templates and the stylesheet its pages include into the process's
    cache (the validator process does this while it waits for the ingest); the number compiled.
    The markdown templates are never rendered; a project's custom stylesheet is its own."""
    view = SharedTemplatesPageView()
    folder = resources.files("great_expectations") / "render" / "view"
    names = sorted(p.name for p in (folder / "templates").iterdir()
                   if p.name.endswith(".j2") and not p.name.startswith("markdown"))
    names.append("data_docs_default_styles.css")  # render/view/static/styles
    for name in names:
        view.env.get_template(name)
    return len(names)
