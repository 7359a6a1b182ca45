"""Dev tooling: ``flyte dev``, its embedded MongoDB and Redis, and the process table.

Needs the server's dependencies (the ``server`` extra); the CLI imports it only
when ``flyte dev`` runs.
"""
