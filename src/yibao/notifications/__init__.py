"""Notifications: the outbox (rule 10), in-app notices, and the senders the worker delivers through."""
