"""The project's exception tree, in one place so every layer can raise and the CLI can explain.

It lives in ``warehouse`` (the bottom layer, which imports nothing of ours) so that
``tasks``, ``expectations`` and ``flows`` can all import it.

    PipelineError                 every error the CLI turns into a one-line message
    ├── ConfigError               a bad argument or config key (names the key and the problem)
    ├── SourceError               a source cannot be read
    │   ├── InputFormatError      a file is neither wikitext nor a MediaWiki XML export
    │   ├── DumpError             an XML export is malformed or truncated
    │   └── FetchError            the MediaWiki API failed for good (retries exhausted, bad reply)
    │       └── PageNotFound      a requested title or page id does not exist / is invalid
    ├── WarehouseError            the DuckDB file cannot be used
    │   ├── WarehouseLocked       another process holds the write lock (after waiting)
    │   ├── WarehouseUnwritable   the path cannot be created or written
    │   ├── LoadError             a batch could not be written (DuckDB's own reason: duplicate key,
    │   │                         out of memory, disk full…); the batch is rolled back
    │   └── QueryError            a query of `infobox sql` failed (DuckDB's message, one line)
    │       └── ReadOnlyViolation the query would change something; nothing of it ran
    └── ValidationError           the expectation run itself broke (not a failed expectation)

Bad wikitext is never raised: the parser records it as ``parse_issues`` rows and goes on.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error the ``infobox`` CLI reports as one clean line."""


class ConfigError(PipelineError):
    """A command-line argument or config value is invalid."""


class SourceError(PipelineError):
    """A source of revisions cannot be read."""


class InputFormatError(SourceError):
    """A file is neither plain wikitext nor a MediaWiki XML export."""


class DumpError(SourceError):
    """A MediaWiki XML export is malformed or truncated."""


class FetchError(SourceError):
    """The MediaWiki Action API could not be used (retries exhausted, unexpected reply)."""


class PageNotFound(FetchError):
    """A requested page title or id is missing or invalid on the wiki."""


class WarehouseError(PipelineError):
    """The DuckDB warehouse cannot be opened or written."""


class WarehouseLocked(WarehouseError):
    """Another process holds the warehouse's write lock."""


class WarehouseUnwritable(WarehouseError):
    """The warehouse path cannot be created or written."""


class LoadError(WarehouseError):
    """Writing a batch failed; the message carries DuckDB's reason and what to do about it."""


class QueryError(WarehouseError):
    """A read-only query failed (syntax, unknown table…)."""


class ReadOnlyViolation(QueryError):
    """A read-only query contains a statement that would change a file or a setting."""


class ValidationError(PipelineError):
    """Running the expectation suites failed (as opposed to an expectation failing)."""
