"""Dramatiq adapter: the actors, the work queue the API sends to, and the scheduler.

Importing any module of this package has no side effect. ``workers.main`` is the
worker processes' entry point: it reads the settings, configures logging, builds
the broker and declares the actors on it.
"""
