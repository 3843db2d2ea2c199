"""The MediaWiki Action API source against a real MediaWiki on 127.0.0.1."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from email.utils import formatdate

import httpx
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.sources.api import ApiConfig, MediaWikiApi, api_url, retry_after_seconds
from tests.faultproxy import FaultProxy
from tests.mediawiki_fixtures import TITLE
from warehouse.errors import FetchError, PageNotFound

pytestmark = pytest.mark.mediawiki
FAST = ApiConfig(user_agent="infobox-pipeline-tests/0.1 (tests@localhost)", backoff_base=0.05,
                 backoff_max=1.0, timeout=2.0, batch=2)


def fetch_all(api: MediaWikiApi, titles, **kwargs):
    return [(page, list(page.revisions)) for page in api.fetch_pages(titles, **kwargs)]


def test_fetches_every_revision_with_content(mediawiki, seed_text):
    from tests.history import seed_history

    with MediaWikiApi(mediawiki.api_url, FAST) as api:
        [(page, revisions)] = fetch_all(api, [TITLE])
        assert api.site_info().wiki == "zhwiki" and api.site_info().lang == "zh"
        assert page.title == TITLE and page.redirect_from is None
        # (Other tests of the session may have added revisions after the first six.)
        assert [r.rev_id for r in revisions] == sorted(mediawiki.rev_ids)
        # MediaWiki trims trailing whitespace when it saves; the rest is byte for byte.
        assert [r.text for r in revisions[:6]] == [t.rstrip() for t in seed_history(seed_text)]
        assert all(len(r.sha1) == 40 for r in revisions)
        assert revisions[1].parent_id == revisions[0].rev_id
        # batch=2: n revisions need ⌈n/2⌉ requests following `continue`.
        revision_requests = [p for p in api.requests_log if p.get("prop") == "revisions"]
        assert len(revision_requests) == (len(revisions) + 1) // 2 >= 3
        assert all(p["maxlag"] == "5" and p["rvslots"] == "main" for p in revision_requests)


def test_user_agent_is_sent(mediawiki):
    seen = []

    def record(request: httpx.Request):
        seen.append(request.headers["User-Agent"])
        return httpx.Response(200, json={"query": {"general": {"wikiid": "x", "lang": "en",
                                                               "server": "//x", "script": "/w/index.php"}}})

    with MediaWikiApi("en", FAST, transport=httpx.MockTransport(record)) as api:
        assert api.site_info().base_url == "https://x/w/index.php"
    assert seen == [FAST.user_agent]


def test_only_newer_revisions_are_requested(mediawiki):
    with MediaWikiApi(mediawiki.api_url, FAST) as api:
        known = mediawiki.rev_ids[-1]
        new_id = mediawiki.edit(TITLE, "{{Infobox military conflict|strength1 = 5}}\nnew text",
                                summary="new edit")
        [(page, revisions)] = fetch_all(api, [TITLE], newer_than={TITLE: known})
        assert [r.rev_id for r in revisions] == [new_id]
        starts = [p["rvstartid"] for p in api.requests_log if p.get("prop") == "revisions"]
        assert starts == [str(known + 1)]
        mediawiki.rev_ids.append(new_id)


def test_missing_and_invalid_titles_are_reported(mediawiki):
    with MediaWikiApi(mediawiki.api_url, FAST) as api:
        with pytest.raises(PageNotFound, match="'No such page' does not exist"):
            fetch_all(api, ["No such page"])
        with pytest.raises(PageNotFound, match="invalid"):
            fetch_all(api, ["Bad[title]"])


def test_redirects_are_followed_and_recorded(mediawiki):
    with MediaWikiApi(mediawiki.api_url, FAST) as api:
        [(page, revisions)] = fetch_all(api, ["Northern Mali conflict"])
        assert (page.title, page.redirect_from) == (TITLE, "Northern Mali conflict")
        assert revisions


def test_discovery_lists_pages_embedding_the_template(mediawiki):
    with MediaWikiApi(mediawiki.api_url, FAST) as api:
        assert [title for _id, title in api.embedded_in("Infobox military conflict")] == [TITLE]


def test_faults_change_nothing(mediawiki):
    """429s, maxlag 503s, timeouts, resets and truncated JSON: the same revisions in the end."""
    with MediaWikiApi(mediawiki.api_url, FAST) as api:
        clean = [(r.rev_id, r.sha1, r.text) for _p, revs in fetch_all(api, [TITLE]) for r in revs]
    with FaultProxy(mediawiki.api_url.rsplit("/", 1)[0], share=0.5, seed=3) as proxy:
        with MediaWikiApi(proxy.url + "/api.php", FAST) as api:
            faulty = [(r.rev_id, r.sha1, r.text) for _p, revs in fetch_all(api, [TITLE]) for r in revs]
            assert api.retries >= 3
    assert faulty == clean
    assert sum(proxy.injected.values()) >= 3 and len(set(k for k, v in proxy.injected.items() if v)) >= 3


def test_retry_cap_gives_a_clear_error():
    calls = []

    def always_busy(request):
        calls.append(request)
        return httpx.Response(503, headers={"Retry-After": "0"}, text="busy")

    config = ApiConfig(user_agent="t/1 (t@localhost)", max_retries=3, backoff_base=0.01)
    with MediaWikiApi("en", config, transport=httpx.MockTransport(always_busy)) as api:
        with pytest.raises(FetchError, match=r"gave up after 4 attempts \(last problem: HTTP 503\)"):
            api.site_info()
    assert len(calls) == 4


def test_wiki_names():
    assert api_url("zh") == "https://zh.wikipedia.org/w/api.php"
    with pytest.raises(FetchError, match="unknown wiki"):
        api_url("not a wiki")


# -- Retry-After (RFC 9110 §10.2.3): both forms, a cap that warns, every wait reported ------------

def test_retry_after_forms_are_read():
    now = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("Fri, 27 Nov 2026 12:02:00 GMT", now) == 120.0  # IMF-fixdate
    assert retry_after_seconds("Friday, 27-Nov-26 12:00:30 GMT", now) == 30.0  # obsolete RFC 850
    assert retry_after_seconds("Fri Nov 27 12:00:05 2026", now) == 5.0  # obsolete asctime
    assert retry_after_seconds("Fri, 27 Nov 2026 11:00:00 GMT", now) == 0.0  # in the past
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


def behind_proxy(mediawiki, *replies):
    return FaultProxy(mediawiki.api_url.rsplit("/", 1)[0], share=0.0, script=list(replies))


def test_default_cap_honours_two_minutes(mediawiki):
    """Retry-After: 120 used to be cut to 60 s without a word; the default cap now allows it."""
    waits: list[float] = []
    reported = []
    with behind_proxy(mediawiki, (429, {"Retry-After": "120"})) as proxy:
        with MediaWikiApi(proxy.url + "/api.php", ApiConfig(user_agent=FAST.user_agent),
                          sleep=waits.append, on_retry=reported.append) as api:
            assert api.site_info().wiki == "zhwiki"
    assert waits == [120.0]
    assert [(r.problem, r.requested_seconds, r.capped) for r in reported] == [("HTTP 429", 120.0, False)]


def discover(proxy, *options):
    result = CliRunner().invoke(app, ["discover", "--wiki", proxy.url + "/api.php",
                                      "--template", "Infobox military conflict",
                                      "--user-agent", FAST.user_agent, *options])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"\t{TITLE}")  # found in the end
    return [line for line in result.stderr.splitlines() if line.startswith(("retry:", "warning:"))]


def test_cli_honours_and_reports_delta_seconds(mediawiki):
    with behind_proxy(mediawiki, (429, {"Retry-After": "1"})) as proxy:
        [line] = discover(proxy)
    assert line.startswith("retry: ") and "HTTP 429 (attempt 1 of 7); retrying in 1.0 s; " \
                                          "Retry-After 1 s" in line


def test_cli_warns_when_delta_seconds_exceed_the_cap(mediawiki):
    with behind_proxy(mediawiki, (503, {"Retry-After": "120"})) as proxy:
        [line] = discover(proxy, "--retry-after-max", "0.2")
    assert line.startswith("warning: ") and "HTTP 503" in line
    assert "retrying in 0.2 s; Retry-After 120 s: the server asked for 120 s, more than the " \
           "0.2 s cap" in line


def test_cli_honours_an_http_date(mediawiki):
    """The HTTP-date form used to be ignored (a 0.5–1.5 s backoff instead)."""
    when = formatdate(time.time() + 3, usegmt=True)
    with behind_proxy(mediawiki, (429, {"Retry-After": when})) as proxy:
        [line] = discover(proxy)
    # Whole seconds on both sides (the reply's Date and the Retry-After): 2 to 4 s.
    found = re.search(r"retrying in ([\d.]+) s; Retry-After ([\d.]+) s$", line)
    assert line.startswith("retry: ") and found, line
    assert 2.0 <= float(found.group(1)) == float(found.group(2)) <= 4.0


def test_cli_warns_when_an_http_date_exceeds_the_cap(mediawiki):
    when = formatdate(time.time() + 100, usegmt=True)
    with behind_proxy(mediawiki, (429, {"Retry-After": when})) as proxy:
        [line] = discover(proxy, "--retry-after-max", "0.3")
    found = re.search(r"retrying in 0.3 s; Retry-After (\d+) s: the server asked for \1 s, more "
                      r"than the 0.3 s cap", line)
    assert line.startswith("warning: ") and found, line
    assert 99 <= int(found.group(1)) <= 101


def test_cli_reports_backoff_without_retry_after(mediawiki):
    with behind_proxy(mediawiki, (502, {}), (500, {})) as proxy:
        lines = discover(proxy)
    assert [line.split("; retrying in")[0].split(": ", 2)[-1] for line in lines] == [
        "HTTP 502 (attempt 1 of 7)", "HTTP 500 (attempt 2 of 7)"]
    assert all(line.startswith("retry: ") and "Retry-After" not in line for line in lines)
