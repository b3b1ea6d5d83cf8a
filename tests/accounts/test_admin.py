"""Staff changes in the admin end the affected sessions through accounts.services."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import SignIn
from tests.support.factories import UserFactory
from tests.support.storefront import me, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_paths]

NEW_PASSWORD = "another-long-passphrase-77"


@pytest.fixture
def staff_browser(password, session_store):
    staff = UserFactory(is_staff=True, is_superuser=True, password=password)
    browser = Client()
    response = browser.post(reverse("admin:login"), {"username": staff.email, "password": password})
    assert response.status_code == 302
    browser.staff = staff
    return browser


@pytest.fixture
def customer_browser(user, password, session_store):
    browser = Client()
    sign_in(browser, user, password)
    return browser


def _change_form_data(user, **changes):
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on" if user.is_active else "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "initial-date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "initial-date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_deactivating_a_user_in_the_admin_ends_their_sessions(
    staff_browser, customer_browser, user
):
    response = staff_browser.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        _change_form_data(user, is_active=""),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert not user.is_active
    assert me(customer_browser).status_code == 401
    assert SignIn.objects.get(user=user).end_reason == SignIn.EndReason.DEACTIVATED


def test_granting_staff_in_the_admin_ends_the_users_sessions_so_none_keeps_old_rights(
    staff_browser, customer_browser, user
):
    staff_browser.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        _change_form_data(user, is_staff="on"),
    )
    user.refresh_from_db()
    assert user.is_staff
    assert me(customer_browser).status_code == 401


def test_renaming_a_user_in_the_admin_keeps_their_sessions(staff_browser, customer_browser, user):
    staff_browser.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        _change_form_data(user, first_name="Renamed"),
    )
    assert me(customer_browser).status_code == 200


def test_setting_a_password_in_the_admin_ends_the_users_sessions(
    staff_browser, customer_browser, user
):
    response = staff_browser.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert me(customer_browser).status_code == 401


def test_the_sign_out_everywhere_action_ends_every_sign_in_of_the_selected_users(
    staff_browser, customer_browser, user
):
    response = staff_browser.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "sign_out_everywhere", "_selected_action": [user.pk]},
    )
    assert response.status_code == 302
    assert me(customer_browser).status_code == 401
    assert me(staff_browser).status_code == 200


def test_staff_signing_themselves_out_everywhere_leaves_signed_out(staff_browser):
    response = staff_browser.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "sign_out_everywhere", "_selected_action": [staff_browser.staff.pk]},
    )
    assert response.status_code == 302
    assert me(staff_browser).status_code == 401


def test_staff_can_end_a_live_session_from_the_sign_in_list(staff_browser, customer_browser, user):
    customer_sign_in = SignIn.objects.get(user=user)
    response = staff_browser.post(
        reverse("admin:accounts_signin_changelist"),
        {"action": "end_sign_ins", "_selected_action": [customer_sign_in.pk]},
    )
    assert response.status_code == 302
    assert me(customer_browser).status_code == 401


def test_the_admin_lists_live_sign_ins(staff_browser, customer_browser, user):
    response = staff_browser.get(reverse("admin:accounts_signin_changelist") + "?state=live")
    assert user.email in response.content.decode()


def test_product_stock_is_editable_from_the_product_list(staff_browser):
    from tests.support.factories import ProductFactory

    product = ProductFactory(stock=3)
    response = staff_browser.get(reverse("admin:shop_product_changelist"))
    assert f'name="form-0-stock" value="{product.stock}"' in response.content.decode()


def test_a_customer_cannot_sign_in_to_the_admin(client, user, password):
    response = client.post(reverse("admin:login"), {"username": user.email, "password": password})
    assert response.status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302


def test_staff_setting_their_own_password_in_the_admin_are_signed_out_cleanly(staff_browser):
    staff = staff_browser.staff
    response = staff_browser.post(
        reverse("admin:auth_user_password_change", args=[staff.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert me(staff_browser).status_code == 401
    assert not SignIn.objects.filter(user=staff, ended_at__isnull=True).exists()
