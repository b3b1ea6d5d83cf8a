"""The API's one middleware: no answer under /api/ is ever stored by a cache."""

from config.cache_control import patch_private_no_store
from config.errors import API_PATH_PREFIX


class ApiNoStoreMiddleware:
    """
    Mark every answer under /api/ ``Cache-Control: no-store`` and ``Pragma: no-cache``.

    Token answers must not be stored (RFC 6749 §5.1), nor account data, nor the errors
    about either. One rule on the path, not a header per view, so that an endpoint added
    later cannot forget it; it sits outside the session middleware so that its 503s are
    marked too. The public key set lives outside /api/ and stays cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(API_PATH_PREFIX):
            patch_private_no_store(response)
            # For HTTP/1.0 caches, as RFC 6749 §5.1 asks of token answers.
            response.headers["Pragma"] = "no-cache"
        return response
