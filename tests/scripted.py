"""A consumer for the integration tests: each message says what to do, and every call is
recorded as a JSON line in the file named by RECORD_FILE, for the test to read back."""

import itertools
import json
import logging
import os
import sys
import threading
import time

import gevent

from amqpdispatcher import PermanentFailure, PublishError

_ids = itertools.count(1)


def record(**event) -> None:
    with open(os.environ["RECORD_FILE"], "a") as out:
        out.write(json.dumps({**event, "t": time.time()}, default=str) + "\n")  # x-death: dates


class Scripted:
    """Message bodies are JSON: {"id": ..., "do": [steps]}. Steps: "ack", "nack", "reject"
    (requeued unless redelivered), "nack-drop", "reject-drop", "raise", "raise-once" (only when
    not redelivered), "twice" (ack twice),
    "bad-ack-once" (acks an unknown tag: the broker closes the channel), ["spin", seconds]
    (busy loop), ["spin-until-file", path] (busy loop until the test creates the file),
    ["sleep", seconds], ["await-file", path] (waits, yielding, until the test creates the
    file), ["block-until-file", path] (waits in the unpatched time.sleep, never yielding),
    ["throw-once", kind] (raises one of THROWABLES when not redelivered),
    "spawn-failing" (starts a greenlet that raises), "spawn-exiting" (starts greenlets that
    raise SystemExit and KeyboardInterrupt), "leave-timer" (returns with a gevent.Timeout still
    running, set to raise SystemExit), ["publish", exchange, routing_key, body], ["try-publish",
    exchange, routing_key, body, mandatory] (records outcome and id), ["publish-json", exchange,
    routing_key, obj], ["publish-misordered", exchange, routing_key, body] (the body where the
    headers belong), ["raise-below-retry", n] (raises while the x-retry-count header is below
    n), "raise-permanent" (raises PermanentFailure), ["raise-named", length, text] (raises an
    exception whose type's name is `length` characters long), ["raise-until-file", path]
    (raises until the test creates the file: a fix deployed), ["log", text] (logs text at INFO
    to the `scripted` logger), ["raise-huge-once", n] (raises with a message of n characters
    when not redelivered), ["first-time", step] (runs step only on the first delivery: neither
    redelivered nor a retry), "try-ack" (acks, and records what that raised), "record-modules"
    (records whether OpenTelemetry was imported in the process). No steps: return
    silently."""

    def __init__(self) -> None:
        self.instance = next(_ids)
        record(event="init", instance=self.instance)

    def consume(self, amqp, msg) -> None:
        work = msg.json()
        record(
            event="consume",
            pid=os.getpid(),
            instance=self.instance,
            id=work.get("id"),
            text=msg.text,
            headers=msg.headers,
            properties={k: v for k, v in msg.properties.items() if k != "headers"},
            delivery_info=msg.delivery_info,
            on_main_thread=threading.current_thread() is threading.main_thread(),
        )
        for step in work.get("do", []):
            self._step(amqp, msg, step)
        record(event="done", instance=self.instance, id=work.get("id"))

    def _step(self, amqp, msg, step) -> None:
        if step == "ack":
            amqp.ack()
        elif step == "try-ack":
            try:
                amqp.ack()
            except BaseException as exc:
                record(event="ack-raised", error=type(exc).__name__, message=str(exc))
                raise
        elif step[0] == "first-time":
            if not msg.delivery_info["redelivered"] and "x-retry-count" not in msg.headers:
                self._step(amqp, msg, step[1])
        elif step == "nack":
            amqp.nack()
        elif step == "nack-drop":
            amqp.nack(requeue=False)
        elif step == "reject":
            amqp.reject(requeue=not msg.delivery_info["redelivered"])
        elif step == "reject-drop":
            amqp.reject(requeue=False)
        elif step == "raise" or (step == "raise-once" and not msg.delivery_info["redelivered"]):
            raise RuntimeError("scripted failure")
        elif step[0] == "raise-named":  # [.., length of the exception's type name, message]
            raise type("E" * step[1], (Exception,), {})(step[2])
        elif step[0] == "raise-huge-once" and not msg.delivery_info["redelivered"]:
            raise RuntimeError("h" * step[1])
        elif step == "raise-permanent":
            raise PermanentFailure("scripted: never going to work")
        elif step[0] == "raise-below-retry" and msg.headers.get("x-retry-count", 0) < step[1]:
            raise RuntimeError("scripted failure")
        elif step[0] == "raise-until-file" and not os.path.exists(step[1]):
            raise RuntimeError("scripted failure until fixed")
        elif step == "twice":
            amqp.ack()
            try:
                amqp.ack()
            except Exception as exc:
                record(event="second-answer", error=type(exc).__name__, message=str(exc))
        elif step == "bad-ack-once" and not msg.delivery_info["redelivered"]:
            amqp._acks.channel.ack(msg.delivery_info["delivery_tag"] + 1000)  # the broker: 406
        elif step[0] == "spin":  # hogs the CPU without yielding
            deadline = time.monotonic() + step[1]
            while time.monotonic() < deadline:
                pass
        elif step[0] == "spin-until-file":
            while not os.path.exists(step[1]):
                pass
        elif step == "spawn-failing":
            gevent.spawn(_fail_in_a_greenlet).join()
        elif step == "spawn-exiting":
            gevent.joinall([gevent.spawn(sys.exit, 5), gevent.spawn(_raise(KeyboardInterrupt()))])
        elif step == "leave-timer":
            gevent.Timeout(0.05, SystemExit(4)).start()
        elif step == "record-modules":
            record(event="modules", opentelemetry="opentelemetry" in sys.modules)
        elif step[0] == "log":
            logging.getLogger("scripted").info(step[1])
        elif step[0] == "sleep":
            gevent.sleep(step[1])
        elif step[0] == "block-until-file":
            while not os.path.exists(step[1]):
                time.sleep(0.02)
        elif step[0] == "await-file":
            while not os.path.exists(step[1]):
                gevent.sleep(0.02)
        elif step[0] == "throw-once" and not msg.delivery_info["redelivered"]:
            THROWABLES[step[1]]()
        elif step[0] == "publish":
            amqp.publish(step[1], step[2], {"from": "scripted"}, step[3], message_id="m1")
        elif step[0] == "publish-json":
            amqp.publish_json(step[1], step[2], step[3], headers={"from": "scripted"})
        elif step[0] == "publish-misordered":
            amqp.publish(step[1], step[2], step[3])
        elif step[0] == "try-publish":  # [.., exchange, routing_key, body, mandatory]
            try:
                amqp.publish(step[1], step[2], None, step[3], mandatory=step[4])
            except PublishError as exc:
                record(event="publish-error", id=msg.json().get("id"), message=str(exc))
            else:
                record(event="published", id=msg.json().get("id"))

    def shutdown(self, exception) -> None:
        record(event="shutdown", instance=self.instance, exception=repr(exception))


def _gevent_timeout() -> None:
    with gevent.Timeout(0.01):
        gevent.sleep(5)


def _raise(exception: BaseException):
    def throw() -> None:
        raise exception

    return throw


THROWABLES = {  # none of them derived from Exception
    "gevent-timeout": _gevent_timeout,
    "greenlet-exit": _raise(gevent.GreenletExit()),
    "system-exit": lambda: sys.exit(3),
    "keyboard-interrupt": _raise(KeyboardInterrupt()),
}


def _fail_in_a_greenlet() -> None:
    raise LookupError("lost in a greenlet of the consumer's own")


class Configured(Scripted):
    """Takes options, `shop` required, and records them."""

    def __init__(self, shop, **options) -> None:
        super().__init__()
        record(event="options", instance=self.instance, options={"shop": shop, **options})


class SlowToCreate(Scripted):
    """Its constructor waits, yielding, for a file that only the test creates."""

    def __init__(self) -> None:
        record(event="creating")
        while not os.path.exists(os.environ["RECORD_FILE"] + ".go"):
            gevent.sleep(0.02)
        super().__init__()


class HangsInShutdown(Scripted):
    def shutdown(self, exception) -> None:
        record(event="shutting-down", instance=self.instance)
        gevent.sleep(3600)


def startup_awaiting_file() -> None:
    """Blocks the start, without gevent, until the test creates a file."""
    record(event="startup")
    while not os.path.exists(os.environ["RECORD_FILE"] + ".go"):
        time.sleep(0.02)


class Broken:
    """Cannot even be created."""

    def __init__(self) -> None:
        raise ValueError("no database")

    def consume(self, amqp, msg) -> None:
        pass

    def shutdown(self, exception) -> None:
        pass


class NoShutdown:
    def consume(self, amqp, msg) -> None:
        pass


def startup() -> None:
    record(event="startup")


def failing_startup() -> None:
    raise OSError("cache unreachable")
