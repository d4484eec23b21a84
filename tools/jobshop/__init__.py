"""Job-shop scheduling: instances, a Gymnasium environment, dispatching rules, CP-SAT and an RL policy.

``schedule_jobs`` (in :mod:`tools.jobshop.schedule_tool`) is the public tool; the CLI lives in
:mod:`tools.jobshop.cli`.
"""
