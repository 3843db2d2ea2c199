"""The MediaWiki Action API as a source of revisions — polite, resumable, fault tolerant.

Etiquette (https://www.mediawiki.org/wiki/API:Etiquette): a descriptive User-Agent with a contact,
``maxlag=5``, ``Retry-After`` honoured in both of its forms (RFC 9110 §10.2.3: delay-seconds or an
HTTP-date) up to a configurable cap, exponential backoff with jitter on 429, 5xx, timeouts,
connection errors and truncated replies, a retry cap with a clear error, and never two requests at
once against one wiki (a lock per API URL, shared by every client in the process). Every wait is
reported as a :class:`Retry` to the client's ``on_retry`` callback (by default: this module's
logger), so that the caller can show it. Content is kept as served (no variant conversion). The
HTTP transport is injectable: tests put faults there.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from pydantic import BaseModel, ConfigDict, Field

from tasks.sources.model import PageHistory, Revision, SiteInfo
from warehouse.errors import FetchError, PageNotFound

WIKIPEDIAS = ("zh", "en", "fr", "de", "es", "ru", "ja", "it", "ar", "pt", "pl", "uk", "nl")
DEFAULT_USER_AGENT = ("infobox-pipeline/0.1 (no contact configured: pass --user-agent "
                      "'your-tool/1.0 (you@example.org)') httpx/" + httpx.__version__)
RETRY_STATUS = {429, 500, 502, 503, 504}
# Longest wait a server's Retry-After is honoured for, unless configured otherwise. Wikimedia's rate
# limiter asks for up to a few minutes; a longer wait is cut to this, with a warning.
RETRY_AFTER_MAX_SECONDS = 300.0
log = logging.getLogger(__name__)
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def api_url(wiki: str) -> str:
    """api.php URL of a short name (zh → https://zh.wikipedia.org/w/api.php) or a URL."""
    if wiki.startswith(("http://", "https://")):
        if not wiki.rstrip("/").endswith("api.php"):
            raise FetchError(f"{wiki} is not an api.php URL")
        return wiki
    if wiki in WIKIPEDIAS or (2 <= len(wiki) <= 3 and wiki.isalpha() and wiki.islower()):
        return f"https://{wiki}.wikipedia.org/w/api.php"
    raise FetchError(f"unknown wiki {wiki!r}: give a language code (zh, en…) or an api.php URL")


def _wiki_lock(url: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(url, threading.Lock())


@dataclass
class ApiConfig:
    """How to talk to a wiki."""

    user_agent: str = DEFAULT_USER_AGENT
    max_retries: int = 6
    timeout: float = 30.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0  # cap of our own exponential backoff (no Retry-After)
    retry_after_max: float = RETRY_AFTER_MAX_SECONDS  # cap of a server-requested wait
    maxlag: int = 5
    batch: int = 50  # revisions per request (the API's maximum with content)


class Discovery(BaseModel):
    """Also follow the pages embedding ``template`` (list=embeddedin, main namespace), at most
    ``limit`` of them. A pydantic model, so that it is also a valid Prefect flow parameter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str = Field(min_length=1)
    limit: int = Field(default=50, ge=1, le=5_000)


@dataclass(frozen=True)
class Retry:
    """One wait before a retry: why, how long, and what the server asked for."""

    url: str
    attempt: int  # the attempt that failed, from 1
    attempts: int  # attempts allowed in all
    problem: str  # "HTTP 429", "timed out after 30s", …
    wait_seconds: float  # what we wait
    requested_seconds: float | None = None  # the server's Retry-After, when it sent one
    cap_seconds: float | None = None  # the Retry-After cap in force

    @property
    def capped(self) -> bool:
        """True when the server asked for longer than the cap allows."""
        return self.requested_seconds is not None and self.wait_seconds < self.requested_seconds

    def describe(self) -> str:
        asked = ""
        if self.requested_seconds is not None:
            asked = f"; Retry-After {self.requested_seconds:g} s"
        line = (f"{self.url}: {self.problem} (attempt {self.attempt} of {self.attempts}); "
                f"retrying in {self.wait_seconds:.1f} s{asked}")
        if self.capped:
            line += (f": the server asked for {self.requested_seconds:g} s, more than the "
                     f"{self.cap_seconds:g} s cap (raise it with --retry-after-max or "
                     f"retry_after_max_seconds)")
        return line


def _log_retry(retry: Retry) -> None:
    log.warning("%s", retry.describe())


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks to wait (RFC 9110 §10.2.3), or None if absent or garbled.

    ``value`` is delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT", also the
    obsolete RFC 850 and asctime forms); a date is counted from ``now`` (the reply's Date header
    when the server sent one, so that clock skew does not matter) and a date in the past is 0.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # asctime carries no zone; HTTP-dates are always UTC
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _reply_date(response: httpx.Response) -> datetime | None:
    try:
        return parsedate_to_datetime(response.headers["Date"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=None)


def _api_time(value: datetime | str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class MediaWikiApi:
    """A client of one wiki's api.php. ``requests_log`` records every request's parameters."""

    def __init__(self, wiki: str, config: ApiConfig | None = None,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 on_retry: Callable[[Retry], None] = _log_retry):
        self.url = api_url(wiki)
        self.short_name = wiki if not wiki.startswith("http") else None
        self.config = config or ApiConfig()
        self.sleep = sleep
        self.on_retry = on_retry
        self.requests_log: list[dict] = []
        self.retries = 0
        self._client = httpx.Client(transport=transport, timeout=self.config.timeout,
                                    headers={"User-Agent": self.config.user_agent,
                                             "Accept-Encoding": "gzip"})
        self._site: SiteInfo | None = None

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> MediaWikiApi:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one request, politely, with retries ---------------------------------------------
    def _retry(self, attempt: int, problem: str, response: httpx.Response | None) -> Retry:
        """The wait after failed attempt ``attempt`` (from 0): the server's Retry-After up to the
        cap, else exponential backoff with jitter."""
        requested = None
        if response is not None:
            requested = retry_after_seconds(response.headers.get("Retry-After"), _reply_date(response))
        if requested is not None:
            wait = min(requested, self.config.retry_after_max)
        else:
            base = min(self.config.backoff_max, self.config.backoff_base * 2 ** attempt)
            wait = base * random.uniform(0.5, 1.5)
        return Retry(url=self.url, attempt=attempt + 1, attempts=self.config.max_retries + 1,
                     problem=problem, wait_seconds=wait, requested_seconds=requested,
                     cap_seconds=self.config.retry_after_max)

    def request(self, params: dict) -> dict:
        """GET api.php with ``params``; retry transient failures; return the decoded JSON."""
        full = {"action": "query", "format": "json", "formatversion": "2",
                "maxlag": str(self.config.maxlag), **params}
        last_problem = ""
        with _wiki_lock(self.url):
            for attempt in range(self.config.max_retries + 1):
                if attempt:
                    self.retries += 1
                self.requests_log.append(dict(full))
                response = None
                try:
                    response = self._client.get(self.url, params=full)
                except httpx.TimeoutException:
                    last_problem = f"timed out after {self.config.timeout:.0f}s"
                except httpx.TransportError as exc:
                    last_problem = f"connection failed ({type(exc).__name__})"
                else:
                    if response.status_code in RETRY_STATUS:
                        last_problem = f"HTTP {response.status_code}"
                    elif response.status_code >= 400:
                        raise FetchError(f"{self.url} answered HTTP {response.status_code}")
                    else:
                        try:
                            data = response.json()
                        except ValueError:
                            last_problem = "truncated or invalid JSON reply"
                        else:
                            error = data.get("error") if isinstance(data, dict) else None
                            if error and error.get("code") == "maxlag":
                                last_problem = f"server lagged ({error.get('info', 'maxlag')})"
                            elif error:
                                raise FetchError(f"{self.url}: API error {error.get('code')}: "
                                                 f"{error.get('info', '')}")
                            else:
                                return data
                if attempt < self.config.max_retries:
                    retry = self._retry(attempt, last_problem, response)
                    self.on_retry(retry)
                    self.sleep(retry.wait_seconds)
        raise FetchError(f"{self.url}: gave up after {self.config.max_retries + 1} attempts "
                         f"(last problem: {last_problem})")

    # -- what the pipeline asks --------------------------------------------------------
    def site_info(self) -> SiteInfo:
        if self._site is None:
            general = self.request({"meta": "siteinfo", "siprop": "general"})["query"]["general"]
            server = general.get("server", "")
            if server.startswith("//"):
                server = "https:" + server
            self._site = SiteInfo(wiki=general.get("wikiid") or self.short_name or self.url,
                                  lang=general.get("lang"),
                                  base_url=server + general.get("script", "/index.php"))
        return self._site

    def resolve(self, titles: list[str]) -> list[tuple[int, str, int, str | None]]:
        """(page_id, title, namespace, redirected_from) per title; PageNotFound lists the bad ones."""
        found: list[tuple[int, str, int, str | None]] = []
        problems: list[str] = []
        for start in range(0, len(titles), 50):
            chunk = titles[start:start + 50]
            query = self.request({"titles": "|".join(chunk), "redirects": "1"})["query"]
            normalized = {n["from"]: n["to"] for n in query.get("normalized", [])}
            redirects = {r["to"]: r["from"] for r in query.get("redirects", [])}
            for page in query.get("pages", []):
                if page.get("invalid"):
                    problems.append(f"{page.get('title', '?')!r} is invalid ({page.get('invalidreason', '')})")
                elif page.get("missing"):
                    problems.append(f"{page['title']!r} does not exist")
                else:
                    origin = redirects.get(page["title"])
                    origin = next((k for k, v in normalized.items() if v == origin), origin)
                    found.append((int(page["pageid"]), page["title"], int(page["ns"]), origin))
        if problems:
            raise PageNotFound(f"{self.url}: " + "; ".join(problems))
        return found

    def revisions(self, page_id: int, *, after_rev_id: int | None = None,
                  since: datetime | str | None = None,
                  until: datetime | str | None = None) -> Iterator[Revision]:
        """Revisions of a page oldest first, following `continue`; only ids > after_rev_id."""
        params = {"prop": "revisions", "pageids": str(page_id), "rvslots": "main",
                  "rvprop": "ids|timestamp|user|comment|sha1|size|content",
                  "rvlimit": str(self.config.batch), "rvdir": "newer"}
        if after_rev_id:
            params["rvstartid"] = str(after_rev_id + 1)
        elif since:
            params["rvstart"] = _api_time(since)
        if until:
            params["rvend"] = _api_time(until)
        while True:
            data = self.request(params)
            for page in data.get("query", {}).get("pages", []):
                for rev in page.get("revisions", []):
                    if after_rev_id and rev["revid"] <= after_rev_id:
                        continue
                    main = rev.get("slots", {}).get("main", {})
                    text = main.get("content") if not main.get("texthidden") else None
                    yield Revision(
                        rev_id=int(rev["revid"]), parent_id=int(rev["parentid"]) or None,
                        timestamp=_timestamp(rev.get("timestamp")), user=rev.get("user"),
                        comment=rev.get("comment"),
                        sha1=rev.get("sha1") or (Revision.sha1_of(text) if text is not None else None),
                        size=rev.get("size"), text=text)
            if "continue" not in data:
                return
            params = {**params, **data["continue"]}

    def fetch_pages(self, titles: list[str], *, newer_than: dict[str, int] | None = None,
                    since: datetime | str | None = None,
                    until: datetime | str | None = None) -> Iterator[PageHistory]:
        """One PageHistory per title (redirects followed); newer_than maps a title or str(page_id)
        to the last stored revision id, so that only later revisions are requested."""
        site = self.site_info()
        newer_than = newer_than or {}
        for page_id, title, namespace, origin in self.resolve(list(titles)):
            known = newer_than.get(title) or newer_than.get(str(page_id)) or \
                (newer_than.get(origin) if origin else None)
            yield PageHistory(site=site, page_id=page_id, title=title, namespace=namespace,
                              revisions=self.revisions(page_id, after_rev_id=known, since=since,
                                                       until=until),
                              redirect_from=origin, source="api")

    def embedded_in(self, template: str, limit: int | None = None,
                    namespace: int = 0) -> Iterator[tuple[int, str]]:
        """(page_id, title) of pages embedding a template (list=embeddedin, with continuation)."""
        title = template if ":" in template else f"Template:{template}"
        params = {"list": "embeddedin", "eititle": title, "einamespace": str(namespace),
                  "eilimit": str(min(limit or 500, 500))}
        count = 0
        while True:
            data = self.request(params)
            for page in data.get("query", {}).get("embeddedin", []):
                yield int(page["pageid"]), page["title"]
                count += 1
                if limit and count >= limit:
                    return
            if "continue" not in data:
                return
            params = {**params, **data["continue"]}
