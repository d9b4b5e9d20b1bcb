"""A bad retry block, reported by --validate at its YAML path and refused at the start."""

from __future__ import annotations

from daemons import consumer_config

from amqpdispatcher.errors import EXIT_CONFIG


def test_validate_reports_a_bad_retry_block_at_its_yaml_path(daemon_factory):
    config = consumer_config("jobs", durable=True)  # a transient queue draws a warning
    config["queues"].append({"queue": "jobs.archive"})
    config["consumers"][0]["retry"] = {"max_retries": -1, "backoff": [0], "archive_ttl": "long"}
    config["consumers"].append(
        {
            "consumer": "scripted:Scripted",
            "queue": "jobs",
            "retry": {"max_retries": 1, "backoff": [1]},
        }
    )
    daemon = daemon_factory(config)
    result = daemon.run("--validate")
    path = daemon.config_path
    error = f"{path}: error:"
    assert result.returncode == EXIT_CONFIG
    assert result.stdout.splitlines() == [
        f"{error} consumers[0].retry.max_retries: expected an integer from 0 to 2147483647, got -1",
        f"{error} consumers[0].retry.backoff[0]: expected seconds > 0 in whole milliseconds, "
        "at most 4294967.295, got 0",
        f"{error} consumers[0].retry.archive_ttl: expected seconds > 0 in whole milliseconds, "
        "at most 4294967.295, got 'long'",
        f"{error} consumers[1].retry: the archive queue 'jobs.archive' is also declared under "
        "queues, at queues[1]; the daemon declares it itself",
    ]
    start = daemon.run()
    assert start.returncode == EXIT_CONFIG
