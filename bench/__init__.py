"""
The benchmark behind ``make bench``: sessions vs JWT, served by gunicorn, driven by wrk.

Modules: ``modes`` (what is measured), ``server`` (gunicorn per mode) with its hooks in
``gunicorn_conf`` and ``counting`` (queries and Redis round trips per request, counted in
the server's workers), ``loadgen`` (wrk, or a Python fallback), ``transport`` and
``credentials`` (sign-in over HTTP or in process), ``stats``, ``micro`` (in-process
micro-costs), ``scale`` (store size), ``charts`` (SVG), ``report`` (table, JSON),
``progress`` and ``runner`` (the whole run).
"""
