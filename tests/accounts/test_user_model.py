import pytest
from django.contrib.auth import authenticate, get_user_model
from django.db import IntegrityError

from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_email_is_the_login_and_is_stored_lower_cased():
    user = User.objects.create_user(email="  Alice@Example.COM ", password="s3cret-pass!")
    assert user.email == "alice@example.com"
    assert authenticate(username="ALICE@example.com", password="s3cret-pass!") == user


def test_emails_differing_only_in_case_cannot_both_exist():
    User.objects.create_user(email="alice@example.com", password="x")
    with pytest.raises(IntegrityError):
        User.objects.create(email="ALICE@example.com")


def test_create_superuser_makes_staff():
    admin = User.objects.create_superuser(email="root@example.com", password="x")
    assert admin.is_staff
    assert admin.is_superuser


def test_a_user_needs_an_email():
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user(email="", password="x")


def test_a_user_loaded_in_part_has_the_rest_deferred_and_saves_only_what_it_loaded():
    # What a partial load leaves must hold for any user built from loaded values.
    user = UserFactory(first_name="Ada", last_name="Byron")
    partial = User.objects.only("email").get(pk=user.pk)
    assert (partial._state.adding, partial._state.db) == (False, "default")
    loaded = {"id", "email"}
    assert partial.get_deferred_fields() == {
        field.attname for field in User._meta.concrete_fields if field.attname not in loaded
    }
    assert partial.first_name == "Ada"  # loaded on first access
    partial.last_name = "Lovelace"
    partial.save(update_fields=["last_name"])
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")
