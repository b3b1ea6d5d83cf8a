"""
The API's one exception handler: every error answers with the same JSON object.

    {"detail": "<a sentence>", "code": "<machine-readable>", "errors": {"<field>": ["..."]}}

``errors`` appears for invalid input only (400); ``retry_after`` (seconds, as the
``Retry-After`` header says) for a limit only (429). The core's exceptions are translated here,
once, so views never catch them: django ``ValidationError`` → 400, ``DoesNotExist`` → 404,
``TooManyRequests`` (``LoginLocked``, the per-address limits) → 429 with ``Retry-After``,
simplejwt ``TokenError`` → 401.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts.lockout import TooManyRequests


class Limited(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "throttled"

    def __init__(self, limited: TooManyRequests):
        super().__init__(detail=str(limited), code=limited.code)
        # DRF turns ``wait`` into the Retry-After header.
        self.wait = limited.retry_after


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, ObjectDoesNotExist | Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, TooManyRequests):
        return Limited(exc)
    if isinstance(exc, TokenError):
        return InvalidToken(str(exc))
    return exc


def _field_errors(detail, field: str = "") -> dict[str, list]:
    """Flatten DRF's nested error details into {"field" or "parent.child": [ErrorDetail]}."""
    if isinstance(detail, dict):
        errors: dict[str, list] = {}
        for key, value in detail.items():
            key = api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else str(key)
            for name, messages in _field_errors(value, f"{field}.{key}" if field else key).items():
                errors.setdefault(name, []).extend(messages)
        return errors
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        errors = {}
        for index, item in enumerate(detail):
            for name, messages in _field_errors(item, f"{field}.{index}").items():
                errors.setdefault(name, []).extend(messages)
        return errors
    messages = detail if isinstance(detail, list) else [detail]
    return {field or api_settings.NON_FIELD_ERRORS_KEY: messages}


def _body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        first = next(iter(errors.values()))[0]
        return {
            "detail": str(first),
            "code": getattr(first, "code", None) or exc.default_code,
            "errors": {name: [str(message) for message in msgs] for name, msgs in errors.items()},
        }
    detail = exc.detail
    if isinstance(exc, Limited):
        return {"detail": str(detail), "code": detail.code, "retry_after": exc.wait}
    if isinstance(detail, dict):  # simplejwt's errors: {"detail": ..., "code": ..., ...}
        return {
            "detail": str(detail.get("detail", exc.default_detail)),
            "code": str(detail.get("code", exc.default_code)),
        }
    return {"detail": str(detail), "code": getattr(detail, "code", None) or exc.default_code}


def exception_handler(exc, context):
    """Answer every API error, translated from the core where needed, in one shape."""
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = _body(exc)
    return response
