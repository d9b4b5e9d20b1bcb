"""The consumer instances of one pool: created, replaced when one raises, and shut down."""

from __future__ import annotations

import copy
import logging

import gevent

from . import backoff
from .config import ConsumerSpec
from .errors import MayPassError
from .executors import GEVENT_EXECUTOR, GeventExecutor, ThreadExecutor
from .interruption import Interrupted
from .middleware import Hooks
from .substitution import named

log = logging.getLogger("amqp-dispatcher.pool")


class PoolError(MayPassError):
    """The consumer instances could not be created at the start; the text names the consumer's
    YAML path."""

    names_yaml_paths = True


class Instances:
    def __init__(
        self,
        spec: ConsumerSpec,
        consumer_class: type,
        hooks: Hooks,
        executor: GeventExecutor | ThreadExecutor = GEVENT_EXECUTOR,
    ) -> None:
        """`executor` runs the constructor and `shutdown`, as it runs `consume`."""
        self._spec = spec
        self._call, self._shut_down = executor.call, executor.shut_down
        self._class = consumer_class
        self._hooks = hooks
        self._live: set = set()

    def create_all(self) -> list:
        """`consumer_count` new instances; a PoolError if one cannot be created."""
        try:
            return [self._new() for _ in range(self._spec.consumer_count)]
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # sys.exit() in __init__ too
            raise PoolError(
                f"{self._spec.path}: cannot create {named(self._spec.consumer)}: {exc!r}"
            ) from None

    def replace(self, instance: object, exception: BaseException) -> object:
        """shutdown(exception) on `instance`, then a new one, retried with backoff for as long
        as creating one fails."""
        self.retire(instance, exception)
        new = self._new_retrying()
        if self._hooks:
            self._hooks("after_instance_replaced", self._spec, instance, new, exception)
        return new

    def retire(self, instance: object, exception: BaseException | None) -> None:
        self._live.discard(instance)
        try:
            self._shut_down(instance, exception)
        except Interrupted:
            raise
        except BaseException:
            log.exception("%s.shutdown raised", self._spec.consumer)
        if self._hooks:
            self._hooks("after_instance_retired", self._spec, instance, exception)

    def retire_all(self) -> list[gevent.Greenlet]:
        """shutdown(None) on every instance, each in a greenlet of its own, for the caller to
        wait for."""
        return [gevent.spawn(self.retire, instance, None) for instance in list(self._live)]

    def _new_retrying(self) -> object:
        for delay in backoff.delays(first=1.0):
            try:
                return self._new()
            except Interrupted:
                raise
            except BaseException:
                log.exception(
                    "cannot create a new %s; retrying in %.1fs", self._spec.consumer, delay
                )
                gevent.sleep(delay)

    def _new(self) -> object:
        instance = self._call(self._class, **copy.deepcopy(self._spec.options))  # each its own
        self._live.add(instance)
        return instance
