"""Adapters shared by the API and the stream worker: settings, MongoDB, storage, Kafka, logging."""
