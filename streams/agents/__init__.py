"""Importing this package registers every agent with the Faust app."""

from streams.agents import credit, emails, invoice, lag, orders, plan, project, schedule

__all__ = ["credit", "emails", "invoice", "lag", "orders", "plan", "project", "schedule"]
