"""log_format checked by --validate."""

from daemons import consumer_config


def test_a_bad_log_format_is_named_with_its_yaml_path(daemon_factory):
    result = daemon_factory({**consumer_config("jobs"), "log_format": "xml"}).run("--validate")
    assert result.returncode == 78
    assert "config.yml: error: log_format: expected one of text, json, got 'xml'" in result.stdout
