"""
The benchmark behind ``make bench``: sessions vs JWT, served by gunicorn, driven by wrk.

Modules: ``modes`` (what is measured), ``server`` (gunicorn per mode), ``loadgen`` (wrk,
or a Python fallback), ``transport``/``credentials`` (sign-in over HTTP or in process),
``probe`` (queries and Redis round trips per request, in process), ``stats``, ``micro``
(in-process micro-costs), ``scale`` (store size), ``charts`` (SVG), ``report`` (table,
JSON), ``progress`` and ``runner`` (the whole run).
"""
