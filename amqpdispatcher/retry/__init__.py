"""Retrying failed messages through delay queues, archiving those that keep failing, and
replaying the archive."""
