"""Retries across a crash of the daemon, and the way back from the archive: the daemon run as a
subprocess against the broker, every message accounted for."""

from __future__ import annotations

import json
import subprocess
import sys

from test_retry import retry_config
from waiting import wait_for

COUNT = 300


def ids_in(broker, queue: str) -> list[int]:
    return [json.loads(body)["id"] for _method, _properties, body in broker.get_all(queue)]


def test_a_fresh_daemon_finishes_the_retries_of_one_killed_midway(broker, daemon_factory):
    """Even ids fail twice, then succeed; odd ids always fail and end in the archive. The first
    daemon is SIGKILLed while messages wait in the delay queues and others are being
    republished; a fresh one finishes: every id is done or archived, none lost."""
    backoff = [0.2, 0.4]
    config, queue = retry_config(broker, {"max_retries": 2, "backoff": backoff})
    config["consumers"][0].update(consumer_count=8, prefetch_count=8)
    delay_queues = [f"{queue}.delay.{seconds:g}s" for seconds in backoff]
    first = daemon_factory(config).start().wait_ready()
    for n in range(COUNT):
        steps = [["raise-below-retry", 2]] if n % 2 == 0 else ["raise"]
        broker.publish(queue, {"id": n, "do": steps})

    def midway() -> bool:
        waiting = sum(broker.messages(name) for name in delay_queues)
        return waiting > 0 and 0 < len(first.records("done")) < COUNT // 2

    wait_for(midway, what="messages waiting in the delay queues while others are done")
    first.process.kill()
    first.process.wait()
    second = daemon_factory(config).start().wait_ready()
    archive = f"{queue}.archive"
    odd = COUNT // 2
    wait_for(lambda: broker.messages(archive) >= odd, timeout=120, what="the odd ids archived")

    def done_ids() -> set[int]:
        return {record["id"] for daemon in (first, second) for record in daemon.records("done")}

    evens = set(range(0, COUNT, 2))
    wait_for(lambda: evens <= done_ids(), timeout=120, what="every even id done")
    assert second.stop() == 0
    archived = ids_in(broker, archive)
    assert set(archived) == set(range(1, COUNT, 2))  # a copy may be there twice: at least once
    assert done_ids() == evens
    for name in [queue, *delay_queues]:
        assert broker.messages(name) == 0, name


def test_archived_messages_are_replayed_to_the_consumer_once_it_is_fixed(
    broker, daemon_factory, tmp_path
):
    fixed = tmp_path / "fixed"
    retry = {"max_retries": 1, "backoff": [0.1], "archive_queue": broker.queue_name("failed")}
    config, queue = retry_config(broker, retry)
    daemon = daemon_factory(config).start().wait_ready()
    for n in range(3):
        broker.publish(queue, {"id": n, "do": [["raise-until-file", str(fixed)]]})
    wait_for(lambda: broker.messages(retry["archive_queue"]) == 3, what="three archived")
    fixed.touch()  # the fix is deployed
    command = ["replay", "--config", str(daemon.config_path), "--queue", queue]
    replay = subprocess.run(
        [sys.executable, "-m", "amqpdispatcher", *command],
        env=daemon.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == f"moved 3 messages from '{retry['archive_queue']}' to '{queue}'\n"
    wait_for(lambda: len(daemon.records("done")) == 3, what="the replayed messages done")
    assert daemon.stop() == 0
    replayed = daemon.records("consume")[-3:]
    assert sorted(r["id"] for r in replayed) == [0, 1, 2]
    assert all("x-retry-count" not in r["headers"] for r in replayed)
    assert broker.messages(queue) == broker.messages(retry["archive_queue"]) == 0
