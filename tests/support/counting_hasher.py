"""A password hasher that counts the passwords it checks: "how many guesses were checked"."""

import threading

from django.contrib.auth.hashers import MD5PasswordHasher

COUNTING_HASHERS = ["tests.support.counting_hasher.CountingMD5PasswordHasher"]


class CountingMD5PasswordHasher(MD5PasswordHasher):
    """The test suite's fast hasher, counting every verify() across threads of one process."""

    checked = 0
    _lock = threading.Lock()

    def verify(self, password, encoded):
        with self._lock:
            type(self).checked += 1
        return super().verify(password, encoded)

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.checked = 0
