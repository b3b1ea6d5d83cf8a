"""
The one Cache-Control value for private answers, shared by both edges: the storefront marks
pages for a signed-in user with it, the API every answer.
"""

from functools import cache

from django.http import HttpResponse
from django.utils.cache import patch_cache_control

PRIVATE_NO_STORE = {"private": True, "no_cache": True, "no_store": True, "must_revalidate": True}


@cache
def _private_no_store_header() -> str:
    """What patch_cache_control(**PRIVATE_NO_STORE) writes on a response without one."""
    response = HttpResponse()
    patch_cache_control(response, **PRIVATE_NO_STORE)
    return response.headers["Cache-Control"]


def patch_private_no_store(response: HttpResponse) -> None:
    """Forbid every cache, shared or the browser's, to keep ``response``."""
    cache_control = response.headers.get("Cache-Control")
    if cache_control is None:
        # The common case, without parsing an empty header on every request.
        response.headers["Cache-Control"] = _private_no_store_header()
    elif "no-store" not in cache_control:
        patch_cache_control(response, **PRIVATE_NO_STORE)
