"""`amqp-dispatcher archive list|show|purge`, and `replay --where`, against the broker."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timezone

import pika
from archived import archive
from brokers import BROKER
from daemons import consumer_config
from test_replay import errors, ids, replay
from test_retry import retry_config, started
from waiting import wait_for

RECENT = datetime.now(timezone.utc).isoformat()


def mixed(n: int) -> dict:
    """Odd messages failed with a KeyError just now, after 1 retry; even ones as FAILURE says:
    a RuntimeError in 2024, after 4."""
    if n % 2 == 0:
        return {}
    return {
        "x-exception-type": "KeyError",
        "x-exception-message": "'sku'\nraised in line 2",
        "x-retry-count": 1,
        "x-failed-at": RECENT,
    }


def run(daemon, action: str, queue: str, *args: str) -> subprocess.CompletedProcess:
    config = str(daemon.config_path)
    command = [sys.executable, "-m", "amqpdispatcher", "archive", action, "--config", config]
    return subprocess.run(
        [*command, "--queue", queue, *args],
        capture_output=True,
        text=True,
        env=daemon.env,
        timeout=60,
    )


def line(n: int) -> str:
    if n % 2:
        return f"{n + 1} m{n} KeyError: 'sku'... (retries 1, failed {RECENT}, 9 bytes)"
    return (
        f"{n + 1} m{n} RuntimeError: scripted failure (retries 4, failed "
        "2024-05-01T12:00:00.000000Z, 9 bytes)"
    )


def test_list_shows_each_message_and_leaves_the_archive_as_it_was(broker, daemon_factory):
    queue = broker.queue_name()
    archived = archive(broker, queue, 4, failure=mixed)
    daemon = daemon_factory(consumer_config(queue))
    result = run(daemon, "list", queue)
    assert result.returncode == 0, result.stderr
    assert errors(result.stderr) == []
    expected = [line(n) for n in range(4)] + [f"listed 4 of the 4 messages in '{archived}'"]
    assert result.stdout.splitlines() == expected
    again = run(daemon, "list", queue)
    assert again.stdout == result.stdout  # nothing moved: classic queues requeue in place
    assert ids(broker, archived) == [0, 1, 2, 3]


def test_list_limit_where_and_json(broker, daemon_factory):
    queue = broker.queue_name()
    archived = archive(broker, queue, 5, failure=mixed)
    daemon = daemon_factory(consumer_config(queue))
    first = run(daemon, "list", queue, "--limit", "1")
    assert first.stdout.splitlines() == [line(0), f"listed 1 of the 5 messages in '{archived}'"]
    found = run(daemon, "list", queue, "--where", "exception_type=Key*", "--where", "age<1d")
    assert found.stdout.splitlines() == [
        line(1),
        line(3),
        f"listed 2 of the 5 messages in '{archived}'",
    ]
    old = run(daemon, "list", queue, "--where", "age>1d", "--limit", "2", "--json")
    assert old.returncode == 0, old.stderr
    assert [json.loads(text) for text in old.stdout.splitlines()] == [
        {
            "position": n + 1,
            "message_id": f"m{n}",
            "exception_type": "RuntimeError",
            "exception_message": "scripted failure",
            "retry_count": 4,
            "failed_at": "2024-05-01T12:00:00.000000Z",
            "size": 9,
            "delivery_count": None,
        }
        for n in (0, 2)
    ]
    assert old.stderr.endswith(f"listed 2 of the 5 messages in '{archived}'\n")
    assert ids(broker, archived) == [0, 1, 2, 3, 4]


def test_show_prints_a_message_in_full(broker, daemon_factory):
    queue = broker.queue_name()
    archived = archive(broker, queue, 2, failure=mixed)
    broker.channel.basic_publish(
        "", archived, b"\xff\x00binary", pika.BasicProperties(message_id="raw")
    )
    daemon = daemon_factory(consumer_config(queue))
    text = run(daemon, "show", queue, "--position", "1")
    assert text.returncode == 0, text.stderr
    assert text.stdout == "\n".join(
        [
            "position: 1",
            "redelivered: no",
            "properties:",
            "  content_type: application/json",
            "  delivery_mode: 2",
            "  message_id: m0",
            "headers:",
            "  tenant: acme",
            "  x-death:",
            "    - count=4, reason=expired, queue=q.delay.1s, exchange=''",
            "  x-exception-message: scripted failure",
            "  x-exception-type: RuntimeError",
            "  x-failed-at: 2024-05-01T12:00:00.000000Z",
            "  x-first-death-exchange: ''",
            "  x-first-death-queue: q.delay.1s",
            "  x-first-death-reason: expired",
            "  x-last-death-exchange: ''",
            "  x-last-death-queue: q.delay.1s",
            "  x-last-death-reason: expired",
            "  x-original-exchange: events",
            "  x-original-routing-key: job.created",
            "  x-retry-count: 4",
            "body (9 bytes, utf-8):",
            '{"id": 0}',
            "",
        ]
    )
    forced = run(daemon, "show", queue, "--message-id", "m1", "--hex")
    assert "  x-exception-message: \"'sku'\\nraised in line 2\"\n" in forced.stdout
    assert forced.stdout.endswith(
        "body (9 bytes, hex):\n00000000  7b 22 69 64 22 3a 20 31 7d" + " " * 23 + '|{"id": 1}|\n'
    )
    binary = run(daemon, "show", queue, "--message-id", "raw")
    assert binary.stdout.startswith("position: 3\n")
    assert binary.stdout.endswith(
        "body (8 bytes, hex):\n00000000  ff 00 62 69 6e 61 72 79" + " " * 26 + "|..binary|\n"
    )
    left = [properties.message_id for _method, properties, _body in broker.get_all(archived)]
    assert left == ["m0", "m1", "raw"]


def test_show_names_what_it_did_not_find(broker, daemon_factory):
    queue = broker.queue_name()
    archived = archive(broker, queue, 2)
    daemon = daemon_factory(consumer_config(queue))
    for args, which in (
        (("--position", "3"), "at position 3"),
        (("--message-id", "m9"), "with id 'm9'"),
    ):
        result = run(daemon, "show", queue, *args)
        assert result.returncode == 1
        assert result.stdout == ""
        (error,) = errors(result.stderr)
        assert error.endswith(f"no message {which} among the 2 messages in '{archived}'")
    assert ids(broker, archived) == [0, 1]


def test_a_missing_archive_is_named(broker, daemon_factory):
    queue = broker.queue_name()
    result = run(daemon_factory(consumer_config(queue)), "list", queue)
    assert result.returncode == 1
    (error,) = errors(result.stderr)
    assert error.endswith(
        f"ERROR [amqp-dispatcher] archive queue '{queue}.archive': NOT_FOUND - no queue "
        f"'{queue}.archive' in vhost '{BROKER.vhost}' (404)"
    )


def test_purge_without_yes_says_what_would_go_and_removes_nothing(broker, daemon_factory):
    queue = broker.queue_name()
    archived = archive(broker, queue, 4, failure=mixed)
    daemon = daemon_factory(consumer_config(queue))
    for where, count in (((), 4), (("--where", "exception_type=KeyError"), 2)):
        result = run(daemon, "purge", queue, *where)
        assert result.returncode == 2
        assert result.stdout == ""
        (error,) = errors(result.stderr)
        assert error.endswith(
            f"would remove {count} messages from '{archived}'; add --yes to remove them"
        )
    assert ids(broker, archived) == [0, 1, 2, 3]


def test_purge_removes_every_message(broker, daemon_factory):
    queue = broker.queue_name()
    archived = archive(broker, queue, 3)
    result = run(daemon_factory(consumer_config(queue)), "purge", queue, "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"removed 3 messages from '{archived}'\n"
    assert broker.messages(archived) == 0


def test_purge_where_removes_the_matching_messages_only(broker, daemon_factory):
    queue = broker.queue_name()
    archived = archive(broker, queue, 5, failure=mixed)
    daemon = daemon_factory(consumer_config(queue))
    result = run(daemon, "purge", queue, "--yes", "--where", "exception_message~sku")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"removed 2 messages from '{archived}'; left 3 messages that did not match\n"
    )
    assert ids(broker, archived) == [0, 2, 4]


def test_replay_where_moves_the_matching_messages_and_leaves_the_rest_in_order(
    broker, daemon_factory
):
    queue = broker.queue_name()
    archived = archive(broker, queue, 5, failure=mixed)
    daemon = daemon_factory(consumer_config(queue))
    keys = replay(daemon, queue, "--where", "exception_type=KeyError")
    assert keys.returncode == 0, keys.stderr
    assert keys.stdout == (
        f"moved 2 messages from '{archived}' to '{queue}'; left 3 messages that did not match\n"
    )
    limited = replay(daemon, queue, "--where", "retry_count=4", "--limit", "2")
    assert limited.returncode == 0, limited.stderr
    assert limited.stdout == (
        f"moved 2 messages from '{archived}' to '{queue}'; left 0 messages that did not match\n"
    )
    assert ids(broker, queue) == [1, 3, 0, 2]
    assert ids(broker, archived) == [4]


def test_messages_a_daemon_archived_are_listed_and_replayed_by_type(broker, daemon_factory):
    config, queue = retry_config(broker, {"max_retries": 1, "backoff": [0.1]})
    daemon = started(daemon_factory, config)
    works = [{"id": "flaky", "do": ["raise"]}, {"id": "hopeless", "do": ["raise-permanent"]}]
    for work in works:
        broker.publish(queue, work, message_id=work["id"])
    archived = f"{queue}.archive"
    wait_for(lambda: broker.messages(archived) == 2, what="both archived")
    assert daemon.stop() == 0
    listed = run(daemon, "list", queue)
    assert listed.returncode == 0, listed.stderr
    *lines, total = listed.stdout.splitlines()
    assert total == f"listed 2 of the 2 messages in '{archived}'"
    failed_at = r"failed \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00"
    shown = sorted(re.sub(failed_at, "failed T", re.sub(r"^[12] ", "", text)) for text in lines)
    flaky, hopeless = (len(json.dumps(work)) for work in works)
    assert shown == [
        f"flaky RuntimeError: scripted failure (retries 1, failed T, {flaky} bytes)",
        "hopeless PermanentFailure: scripted: never going to work (retries 0, failed T, "
        f"{hopeless} bytes)",
    ]
    result = replay(daemon, queue, "--where", "exception_type=Permanent*")
    assert result.returncode == 0, result.stderr
    assert [json.loads(body) for _m, _p, body in broker.get_all(queue)] == [works[1]]
    assert broker.messages(archived) == 1


def test_a_quorum_archive_counts_each_listing(broker, daemon_factory):
    """RabbitMQ 3.10: x-delivery-count, 0 at first, goes up by one with every read, and a
    message put back goes behind those still in the queue: listing them all keeps their order,
    listing some does not."""
    queue = broker.queue_name()
    archived = archive(broker, queue, 3, work_queue=False, arguments={"x-queue-type": "quorum"})
    daemon = daemon_factory(consumer_config(queue, durable=True, x_queue_type="quorum"))
    first = run(daemon, "list", queue)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("x-delivery-count 0)") == 3
    wait_for(lambda: broker.messages(archived) == 3, what="the messages back")
    second = run(daemon, "list", queue)
    assert [text.split(" ")[1] for text in second.stdout.splitlines()[:-1]] == ["m0", "m1", "m2"]
    assert second.stdout.count("x-delivery-count 1)") == 3
    wait_for(lambda: broker.messages(archived) == 3, what="the messages back")
    assert run(daemon, "list", queue, "--limit", "1").returncode == 0
    wait_for(lambda: broker.messages(archived) == 3, what="the message back")
    assert ids(broker, archived) == [1, 2, 0]
