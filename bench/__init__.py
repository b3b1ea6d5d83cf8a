"""
The benchmark behind ``make bench``: sessions vs JWT, served by gunicorn, driven by wrk.

Modules: ``modes`` (what is measured), ``run_config`` (for how long), ``processes`` (free
ports, ``manage.py`` and gunicorn on loopback, shared with the scripts and the tests),
``server`` (gunicorn per mode) with its hooks in ``gunicorn_conf`` and ``counting``
(queries and Redis round trips per request, counted in the server's workers), ``loadgen``
(wrk, or a Python fallback), ``transport`` and ``credentials`` (sign-in over HTTP or in
process), ``stats``, ``under_load`` (every mode beside its floor), ``in_process`` with
``micro`` (micro-costs) and ``scale`` (store size), ``charts`` (SVG), ``report`` (table,
JSON), ``progress`` and ``runner`` (the whole run).
"""
