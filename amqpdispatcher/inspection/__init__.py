"""What `amqp-dispatcher status` reads and shows: the configured queues (queues.py), their
depths over AMQP (depths.py) and their unacked messages from the management API
(management.py), a running daemon's readiness and rates (daemon.py, rates.py), all put on one
screen or in one JSON document (report.py)."""
