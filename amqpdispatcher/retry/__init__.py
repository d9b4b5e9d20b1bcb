"""The mechanics of retrying failed messages through delay queues, archiving those that keep
failing, and replaying the archive; the policy that uses them is failure/retry.py."""
