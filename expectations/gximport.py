"""Import Great Expectations without loading the modules of expectations this project never runs.

Importing GX imports every expectation and metric it ships (its registry fills at import time).
Three of those modules import SciPy's statistics and Altair, a chart library, at module level, for
the Kolmogorov–Smirnov and KL-divergence expectations; none of our checks (expectations/checks.py)
uses either, and both are only called when such an expectation runs or is rendered. Measured on
this project's 2-core machine (issue 17): ``import great_expectations`` 3.1–3.7 s and 216 MB
alone; with the two deferred, 2.0–2.1 s and 140 MB. The validator imports GX while the ingest
loads its first batches, when the machine's two cores are both busy, so the second saved there is
a second of the batches' CPU.

The two are registered as modules whose code runs at the first use of one of their attributes
(a module-level __getattr__, PEP 562): GX's `import altair as alt` and `from scipy import stats`
get the module object, and a suite that does use a deferred expectation still works; it pays the
import then.

    import_gx() → the great_expectations module   (defer_unused() first, then the import)
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

# Imported by GX's modules at import time, used by no check of ours (see the docstring).
DEFERRED = ("scipy.stats", "altair")


def _lazy(name: str) -> None:
    parent, _, child = name.rpartition(".")
    if parent:
        __import__(parent)  # the package itself (scipy's __init__ costs ≈ 5 ms)
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return  # not installed: GX's own import will say so if it needs it
    # The module object with its import attributes (__spec__, __path__…), its code not run yet.
    module = importlib.util.module_from_spec(spec)

    def load_on_first_use(attribute: str):
        # PEP 562: called for an attribute the module does not have, i.e. its first real use.
        # (importlib.util.LazyLoader loads on any attribute, and `import altair` itself reads
        # __spec__: it would load at GX's import.)
        del module.__dict__["__getattr__"]
        spec.loader.exec_module(module)
        return getattr(module, attribute)

    module.__dict__["__getattr__"] = load_on_first_use
    sys.modules[name] = module
    if parent:
        setattr(sys.modules[parent], child, module)


def defer_unused() -> None:
    """Register each module of DEFERRED that is not imported yet as a lazy module."""
    for name in DEFERRED:
        if name not in sys.modules:
            _lazy(name)


def import_gx() -> ModuleType:
    """``great_expectations``, imported with DEFERRED deferred."""
    defer_unused()
    import great_expectations

    return great_expectations
