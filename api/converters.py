"""Path converters for the API's URLs."""


class ApiIdConverter:
    """
    A database id: 1 to 18 digits. A longer number cannot name a row (ids are 64-bit), so
    it does not match and the request ends in a 404 (JSON under /api/, config/errors.py),
    never in a database error.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
