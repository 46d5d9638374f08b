"""Importing this package registers every agent with the Faust app."""

from streams.agents import emails, invoice, orders, plan, project

__all__ = ["emails", "invoice", "orders", "plan", "project"]
