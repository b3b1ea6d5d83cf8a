"""Password validators of our own (Django ships a minimum length, not a maximum)."""

from django.core.exceptions import ValidationError


class MaximumLengthValidator:
    """
    Refuse passwords longer than ``max_length`` characters: nobody types more, and a
    megabyte-long password would be hashed (and its similarity to the user's details
    computed) on every sign-in. The API's inputs stop at the same length.
    """

    def __init__(self, max_length: int = 4096):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long. It must contain at most {self.max_length} characters.",
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return f"Your password must contain at most {self.max_length} characters."
