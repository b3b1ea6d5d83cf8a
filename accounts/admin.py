"""
The admin for users and sign-ins. Django's own user admin, unchanged where it saves: a new
password, a deactivation or a privilege change ends the user's sign-ins through the
receivers in accounts/signals.py, as any other save does, and so does a deletion. The
actions call one service each and report what it did; the admin decides nothing itself.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from . import services
from .models import SignIn, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    # What fits beside the admin's side bar and filters at 1280 px; the names are one column.
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    actions = ["sign_out_everywhere"]

    @admin.display(description="name", ordering="last_name")
    def name(self, user):
        return user.get_full_name()

    @admin.action(description="Sign out everywhere (end every session and API token)")
    def sign_out_everywhere(self, request, queryset):
        ended = services.users_sign_out_everywhere(users=queryset, reason=SignIn.EndReason.ADMIN)
        self.message_user(
            request,
            f"Ended {ended} sign-in{'s' if ended != 1 else ''} of {queryset.count()} user(s).",
            messages.SUCCESS,
        )


class LiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("ended", "Ended")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(ended_at__isnull=True, expires_at__gt=timezone.now())
        if self.value() == "ended":
            return queryset.exclude(ended_at__isnull=True, expires_at__gt=timezone.now())
        return queryset


@admin.register(SignIn)
class SignInAdmin(admin.ModelAdmin):
    """Every sign-in (live sessions and API token chains); staff can end them."""

    # What fits beside the admin's side bar and filters at 1280 px: the three end fields
    # are one column ("state"), and the other times are on each sign-in's own page.
    list_display = ["user", "kind", "state", "last_seen", "ip_address"]
    list_filter = [LiveFilter, "kind", "end_reason"]
    list_select_related = ["user"]
    search_fields = ["user__email", "ip_address"]
    readonly_fields = [f.name for f in SignIn._meta.fields]
    actions = ["end_sign_ins"]

    @admin.display(description="state", ordering="ended_at")
    def state(self, sign_in):
        if sign_in.ended_at is not None:
            return sign_in.get_end_reason_display() or "Ended"
        return "Live" if sign_in.is_live else "Expired"

    @admin.display(description="last seen", ordering="last_seen_at")
    def last_seen(self, sign_in):
        # The storefront's short format: the admin's own takes a third of the list's width.
        return timezone.localtime(sign_in.last_seen_at).strftime("%Y-%m-%d %H:%M")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting a row would orphan its session instead of ending it: use the action.
        return False

    @admin.action(description="End the selected sign-ins")
    def end_sign_ins(self, request, queryset):
        ended = services.sign_ins_end(sign_ins=queryset, reason=SignIn.EndReason.ADMIN)
        self.message_user(
            request, f"Ended {ended} sign-in{'s' if ended != 1 else ''}.", messages.SUCCESS
        )
