"""Operational scripts run from the repository root (``make check-deploy``)."""
