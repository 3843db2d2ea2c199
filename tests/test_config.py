"""The pipeline config: the worked example loads; each mistake names its key (and its file)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.config import load_config, parse_config
from flows.deployments import parameters
from tests.conftest import SAMPLE_DUMP
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
    assert hourly["discover"] == [{"template": "Infobox military conflict", "limit": 20}]
    assert hourly["retry_after_max_seconds"] == 300
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
    ({"tracked": [{"wiki": "zh", "titles": "x"}]}, "tracked[0].titles: expected a list, got string 'x'"),
    ({"tracked": [{"wiki": "zh", "titles": ["ok", " "]}]}, "tracked[0].titles[1]: expected a page title"),
    ({"tracked": [{"wiki": "zh", "discover_limit": 5}]}, "tracked[0]: discover_limit without discover"),
    ({"tracked": [{"wiki": "zh", "discover": "T", "discover_limit": 0}]},
     "tracked[0].discover_limit: 0 is out of range: must be ≥ 1"),
    ({"tracked": [{"wiki": "not a wiki"}]}, "tracked[0].wiki: unknown wiki 'not a wiki'"),
    ({"colour": "blue"}, "colour: unknown key"),
    ({"user_agent": "bot"}, "user_agent: say who you are"),
    ({"lock_wait_seconds": -1}, "lock_wait_seconds: -1 is out of range: must be ≥ 0"),
    ({"lock_wait_seconds": "60"}, "lock_wait_seconds: expected a number, got string '60'"),
    ({"retry_after_max_seconds": -1}, "retry_after_max_seconds: -1 is out of range: must be ≥ 0"),
    ({"data_dir": 42}, "data_dir: expected a path (a string), got integer 42"),
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


def test_discover_reaches_the_deployment_parameters():
    config = parse_config({"tracked": [{"wiki": "zh", "titles": ["马利北部冲突"],
                                        "discover": "Infobox military conflict",
                                        "discover_limit": 20}],
                           "retry_after_max_seconds": 600,
                           "schedules": [{"name": "all", "cron": "0 * * * *", "wiki": "zh"},
                                         {"name": "one", "cron": "0 * * * *", "wiki": "zh",
                                          "titles": ["Mali War"]}]})
    every, one = (parameters(config, schedule) for schedule in config.schedules)
    assert every["titles"] == ["马利北部冲突"]
    assert every["discover"] == [{"template": "Infobox military conflict", "limit": 20}]
    assert every["retry_after_max_seconds"] == 600
    # Titles named in the schedule are exactly what it fetches: no discovery.
    assert "discover" not in one and one["titles"] == ["Mali War"]


# -- through the real CLI: `infobox deploy` reads the config before it needs a Prefect API ------

def deploy(tmp_path, text: str | bytes):
    path = tmp_path / "pipeline.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["deploy", "--config", str(path)])
    return path, result


def assert_one_error_line(result, *fragments):
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


def schedule(**keys) -> str:
    body = "\n".join(f"{k} = {v}" for k, v in keys.items())
    return f"""
user_agent = "infobox-tests/0.1 (tests@localhost)"
[[tracked]]
wiki = "zh"
titles = ["马利北部冲突"]
[[schedules]]
name = "zh-hourly"
cron = "0 * * * *"
{body}
"""


@pytest.mark.parametrize("keys, fragment", [
    ({"wiki": '"zh"', "batch_size": '"fifty"'},
     "schedules[0].batch_size: expected an integer, got string 'fifty'"),
    ({"wiki": '"zh"', "batch_size": "0"}, "schedules[0].batch_size: 0 is out of range: must be ≥ 1"),
    ({"wiki": '"zh"', "batch_size": "-5"}, "schedules[0].batch_size: -5 is out of range: must be ≥ 1"),
    ({"wiki": '"zh"', "batch_size": "100000000"}, "schedules[0].batch_size: 100000000 is out of range: "
                                                  "must be ≤ 10000"),
    ({"wiki": '"zh"', "description": "42"},
     "schedules[0].description: expected a string, got integer 42"),
    ({"dump": '"no-such-export.xml.bz2"'}, "schedules[0].dump: no such dump file: "),
    ({"dump": f'"{__file__}"'}, "is not a MediaWiki XML export"),
    ({"wiki": '"zh"', "colour": '"blue"'}, "schedules[0].colour: unknown key (allowed: batch_size"),
])
def test_cli_names_the_bad_schedule_key_and_the_file(tmp_path, keys, fragment):
    path, result = deploy(tmp_path, schedule(**keys))
    assert_one_error_line(result, str(path), fragment)


@pytest.mark.parametrize("data_dir, fragment", [
    ("/proc/nope", "data_dir: '/proc/nope' cannot be created or written"),
    ("a-file", "data_dir: 'a-file' cannot be created or written"),
])
def test_cli_refuses_a_data_dir_that_cannot_be_written(tmp_path, data_dir, fragment):
    (tmp_path / "a-file").write_text("not a directory", encoding="utf-8")
    path, result = deploy(tmp_path, f'data_dir = "{data_dir}"\n' + schedule(wiki='"zh"'))
    assert_one_error_line(result, str(path), fragment)


def test_cli_refuses_a_config_that_is_not_utf8(tmp_path):
    path, result = deploy(tmp_path, schedule(wiki='"zh"', description='"Mali – nord"')
                          .encode("utf-8").replace("–".encode(), "–".encode("cp1252")))
    assert_one_error_line(result, str(path), "not UTF-8 text (byte 0x96 on line 10)")


def test_a_good_file_with_a_dump_beside_it_loads(tmp_path):
    """Paths are relative to the file; a valid dump and a creatable data dir pass."""
    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "sample.xml").write_bytes(SAMPLE_DUMP.read_bytes())
    path = tmp_path / "pipeline.toml"
    path.write_text(schedule(dump='"dumps/sample.xml"', batch_size="25",
                             description='"nightly sample"'), encoding="utf-8")
    config = load_config(path)
    params = parameters(config, config.schedules[0])
    assert params["dump"] == str(tmp_path / "dumps" / "sample.xml") and params["batch_size"] == 25
    assert config.source == path and (tmp_path / "data").is_dir()  # data/ beside the file
