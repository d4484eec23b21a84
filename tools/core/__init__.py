"""Shared foundations: errors, workspace settings, dataset names, the plan store."""
