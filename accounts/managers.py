import unicodedata

from django.contrib.auth.base_user import BaseUserManager


class UserManager(BaseUserManager):
    """
    Create users identified by email, stored normalised so that lookups ignore case and
    compatibility look-alikes.
    """

    use_in_migrations = True

    @staticmethod
    def normalize_email_address(email: str) -> str:
        """
        Return the address as it is stored and looked up: NFKC, as Django normalises
        usernames (so full-width "ｅｘａｍｐｌｅ" is "example"), then lower-cased whole.
        """
        return unicodedata.normalize("NFKC", email or "").strip().lower()

    def get_by_natural_key(self, username):
        # ModelBackend signs in through this: every edge gets the same normalisation.
        return self.get(email=self.normalize_email_address(username))

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("Users must have an email address.")
        user = self.model(email=self.normalize_email_address(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields["is_staff"] is not True or extra_fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)
