"""The example's startup handler: runs once, before the daemon connects."""

import logging

log = logging.getLogger("amqp-dispatcher.example")


def startup() -> None:
    log.info("startup handler ran: set up database pools, metrics clients... here")
