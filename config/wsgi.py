"""
WSGI entry point (gunicorn config.wsgi). With ``AUTH_FAST_PATH=1`` the objects the start
made are then frozen out of the garbage collector's way (fastpath/startup.py).
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

application = get_wsgi_application()

if settings.AUTH_FAST_PATH:
    from fastpath.startup import freeze_what_startup_made

    freeze_what_startup_made()
