"""A PBKDF2 hasher cheap enough for tests that need Django to upgrade a stored hash."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1
