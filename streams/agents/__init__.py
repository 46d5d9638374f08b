"""Importing this package registers every agent with the Faust app."""

from streams.agents import emails, invoice, lag, orders, plan, project

__all__ = ["emails", "invoice", "lag", "orders", "plan", "project"]
