"""Diaodu's solver tools: routing, replanning, job-shop scheduling, data import.

Imports flow one way: ``tools.core`` (workspace, errors, store) <- the domain
packages (``tools.routing``, ``tools.jobshop``, ...) <- ``assistant``.
"""
