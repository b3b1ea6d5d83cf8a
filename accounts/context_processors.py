"""Template context for the site header."""

from django.urls import NoReverseMatch, reverse


def site_header(request) -> dict:
    """
    Offer the header a link to the sessions-vs-JWT comparison page once a URL named
    ``compare`` exists (another part of the project adds it); until then, no link.
    """
    try:
        compare_url = reverse("compare")
    except NoReverseMatch:
        compare_url = None
    return {"compare_url": compare_url}
