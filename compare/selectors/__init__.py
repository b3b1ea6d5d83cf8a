"""
Read what each model leaves where, for the comparison page: the session cookie and the
session record on one side, the token pair and the token tables on the other.

Nothing here writes. Values that would work as credentials (the session key, a token's
signature) are never returned whole: the page is HTML, readable by any script that runs
on it, and the session cookie is HttpOnly precisely so that scripts cannot read it.

``sessions`` reads the session side, ``tokens`` the token side, ``formatting`` is how
either shows a secret or a duration; the names are imported here, so callers say
``selectors.session_record`` whichever side it is on.
"""

from compare.xss_exposure import XSS_EXPOSURE_PATH, XssTable, xss_exposure

from .formatting import PREVIEW_CHARS, duration_text, preview
from .sessions import (
    SESSION_BACKEND_LABELS,
    SessionCookie,
    SessionRecord,
    session_cookie,
    session_cookie_policy,
    session_record,
)
from .tokens import (
    DecodedToken,
    DenylistEntry,
    JwtPolicy,
    TokenStorage,
    jwt_policy,
    refresh_token_on_record,
    token_decode,
    token_storage,
)

__all__ = [
    "PREVIEW_CHARS",
    "SESSION_BACKEND_LABELS",
    "XSS_EXPOSURE_PATH",
    "DecodedToken",
    "DenylistEntry",
    "JwtPolicy",
    "SessionCookie",
    "SessionRecord",
    "TokenStorage",
    "XssTable",
    "duration_text",
    "jwt_policy",
    "preview",
    "refresh_token_on_record",
    "session_cookie",
    "session_cookie_policy",
    "session_record",
    "token_decode",
    "token_storage",
    "xss_exposure",
]
