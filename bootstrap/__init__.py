"""The composition root (cosmicpython's `bootstrap`): the one place that builds the API's and the worker's
dependencies, from settings for a real process or from the fakes a test hands it.

- `bootstrap.api`: the FastAPI application with its adapters (MongoDB, Kafka, storage, tokens, ...);
- `bootstrap.worker`: the Faust app, its topics and agents, and the worker's adapters.

Nothing below `infra/`, `service/`, `streams/`, `schemas/` or `invoicing/` imports this package: they take
what they need as arguments, so they read no settings at import and tests can hand them fakes.
"""
