"""Pagination for the API's lists."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination


class StrictPageNumberPagination(PageNumberPagination):
    """
    DRF's page-number pagination, but ``page`` is a whole number or absent: an empty value
    or "last" is refused like any other invalid page, as the schema (an integer) promises.
    """

    last_page_strings = ()

    def get_page_number(self, request, paginator):
        page = request.query_params.get(self.page_query_param)
        if page is None:
            return 1
        if not (page.isascii() and page.isdigit()):
            raise NotFound(
                self.invalid_page_message.format(page_number=page, message="Not a number.")
            )
        return page
