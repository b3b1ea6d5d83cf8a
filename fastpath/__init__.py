"""
The project's speed work, off unless ``AUTH_FAST_PATH=1``.

Nothing outside this package imports it on the stock path: with the setting off (the
default) the site runs Django's own session and authentication middleware and simplejwt's
per-request verification, and this package can be deleted without breaking anything.
``fastpath.conf.overrides`` says which settings the switch changes; the rest of the package
holds the pieces those settings name. docs/fast-path.md says what each piece buys, measured,
and what it costs.
"""
