"""The pipeline config: the worked example loads; each mistake names its key."""

from __future__ import annotations

import pytest

from flows.config import load_config, parse_config
from flows.deployments import parameters
from warehouse.errors import ConfigError

GOOD = {"tracked": [{"wiki": "zh", "titles": ["马利北部冲突"]}],
        "schedules": [{"name": "zh-hourly", "cron": "0 * * * *", "wiki": "zh"}]}


def test_example_config_loads():
    config = load_config("pipeline.example.toml")
    assert [(s.name, s.cron, s.timezone) for s in config.schedules] == [
        ("zh-hourly", "0 * * * *", "UTC"), ("en-daily", "30 6 * * *", "Europe/Paris"),
        ("sample-nightly", "15 2 * * *", "UTC")]
    assert config.db.name == "warehouse.duckdb" and config.lock_wait_seconds == 120
    hourly = parameters(config, config.schedules[0])
    assert hourly["titles"] == ["马利北部冲突"] and hourly["scheduled"] is True
    assert hourly["user_agent"] == "mali-conflict-study/1.0 (analyst@example.org)"
    assert parameters(config, config.schedules[2])["dump"].endswith("northern_mali_conflict.xml")


@pytest.mark.parametrize("change, message", [
    ({"schedules": [{"name": "x", "cron": "61 * * * *", "wiki": "zh"}]},
     "schedules[0].cron: '61 * * * *' is not a valid cron expression"),
    ({"schedules": [{"name": "x", "wiki": "zh"}]}, "schedules[0].cron: missing"),
    ({"schedules": [{"name": "x", "cron": "0 * * * *"}]}, "schedules[0]: give exactly one of wiki or dump"),
    ({"schedules": [{"name": "x", "cron": "0 * * * *", "wiki": "zh", "timezone": "Mars/Olympus"}]},
     "schedules[0].timezone: 'Mars/Olympus' is not a known time zone"),
    ({"schedules": [{"name": "x", "cron": "0 * * * *", "wiki": "fr"}]},
     "schedules[0].titles: empty, and no [[tracked]] entry for wiki 'fr'"),
    ({"schedules": [GOOD["schedules"][0], GOOD["schedules"][0]]}, "schedules[1].name: 'zh-hourly' is used twice"),
    ({"tracked": [{"titles": ["x"]}]}, "tracked[0].wiki: missing"),
    ({"tracked": [{"wiki": "zh", "titles": "x"}]}, "tracked[0].titles: expected list"),
    ({"colour": "blue"}, "colour: unknown key"),
    ({"user_agent": "bot"}, "user_agent: say who you are"),
    ({"lock_wait_seconds": -1}, "lock_wait_seconds: -1 is negative"),
    ({"severities": {"totals_reconcile": "fatal"}}, "severities.totals_reconcile: 'fatal' is not one of"),
])
def test_mistakes_name_the_key(change, message):
    with pytest.raises(ConfigError) as info:
        parse_config({**GOOD, **change})
    assert message in str(info.value)


def test_bad_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("schedules = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="no config file"):
        load_config(tmp_path / "none.toml")
