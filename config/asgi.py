"""
ASGI entry point: Django's own handler, or with ``AUTH_FAST_PATH=1`` the fast path's, which
runs each request's sync code on a thread the worker keeps instead of one made per
request (fastpath.asgi.PooledThreadsASGIHandler, docs/fast-path.md), and then freezes the
objects the start made out of the garbage collector's way (fastpath/startup.py).
"""

import os

import django
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# Before the import below: fastpath.asgi imports models (get_asgi_application's own setup
# call then finds the apps loaded).
django.setup(set_prefix=False)

if settings.AUTH_FAST_PATH:
    from fastpath.asgi import get_asgi_application
else:
    from django.core.asgi import get_asgi_application

application = get_asgi_application()

if settings.AUTH_FAST_PATH:
    from fastpath.startup import freeze_what_startup_made

    freeze_what_startup_made()
