"""
The API's middleware: no answer under /api/ is ever stored by a cache, and every error
under /api/ is JSON, with DEBUG on too.
"""

import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404

from config import errors
from config.cache_control import patch_private_no_store
from config.errors import API_PATH_PREFIX
from config.middleware import SyncAndAsyncMiddleware

request_logger = logging.getLogger("django.request")


class ApiNoStoreMiddleware(SyncAndAsyncMiddleware):
    """
    Mark every answer under /api/ ``Cache-Control: no-store`` and ``Pragma: no-cache``.

    Token answers must not be stored (RFC 6749 §5.1), nor account data, nor the errors
    about either. One rule on the path, not a header per view, so that an endpoint added
    later cannot forget it; it sits outside the session middleware so that its 503s are
    marked too. The public key set lives outside /api/ and stays cacheable.
    """

    def after(self, request, response, state):
        if request.path_info.startswith(API_PATH_PREFIX):
            patch_private_no_store(response)
            # For HTTP/1.0 caches, as RFC 6749 §5.1 asks of token answers.
            response.headers["Pragma"] = "no-cache"
        return response


class ApiJsonErrorsMiddleware(SyncAndAsyncMiddleware):
    """
    With DEBUG on, answer an exception raised under /api/ as JSON, not as the debug page.

    With DEBUG off Django's handlers (config/errors.py) already answer JSON there; with it
    on Django renders its HTML debug pages instead, which an API client cannot read. The
    traceback still goes to the console, through the same logger Django uses. Unknown
    paths under /api/ never get here: api/urls.py ends with a JSON catch-all.
    """

    def process_exception(self, request, exception):
        if not (settings.DEBUG and request.path_info.startswith(API_PATH_PREFIX)):
            return None
        if isinstance(exception, Http404):
            kind = errors.NOT_FOUND
        elif isinstance(exception, PermissionDenied):
            kind = errors.PERMISSION_DENIED
        elif isinstance(exception, (BadRequest, SuspiciousOperation)):
            kind = errors.BAD_REQUEST
        else:
            kind = errors.SERVER_ERROR
        response = errors.error_response(request, kind, as_json=True)
        request_logger.error("%s: %s", response.reason_phrase, request.path, exc_info=exception)
        response._has_been_logged = True  # what django.utils.log.log_response looks for
        return response
