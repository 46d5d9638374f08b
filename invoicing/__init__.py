"""The invoicing domain: pure functions and dataclasses, no I/O (cosmicpython's domain model).

Everything here can be unit-tested without Kafka, MongoDB or storage.
"""
