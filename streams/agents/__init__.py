"""Importing this package registers every agent with the Faust app."""

from streams.agents import invoice, orders, plan, project

__all__ = ["invoice", "orders", "plan", "project"]
