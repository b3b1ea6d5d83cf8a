"""
The admin for users and sign-ins. Changes that must end sign-ins (deactivation, a new
password, privileges) go through accounts.services like every other edge, so staff
cannot leave a revoked session alive by editing a row.
"""

from django.contrib import admin, messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from . import services
from .models import SignIn, User

# Fields copied into the session's user snapshot that decide what a user may do: when
# staff change one of them, the user's sessions end so no page keeps the old value.
PRIVILEGE_FIELDS = {"email", "is_staff", "is_superuser"}


class AdminPasswordChangeForm(auth_forms.AdminPasswordChangeForm):
    """Set (or disable) a password through accounts.services, which ends every sign-in."""

    def save(self, commit=True):
        if self.cleaned_data["set_usable_password"]:
            services.user_password_change(
                user=self.user, new_password=self.cleaned_data["password1"], keep=None
            )
        else:
            services.user_password_unset(user=self.user)
        return self.user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
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
    change_password_form = AdminPasswordChangeForm
    actions = ["sign_out_everywhere"]

    def save_model(self, request, obj, form, change):
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        if deactivating:
            # Let the service make the change, so that it also ends the sign-ins.
            obj.is_active = True
        super().save_model(request, obj, form, change)
        if deactivating:
            services.user_deactivate(user=obj)
        elif change and PRIVILEGE_FIELDS & set(form.changed_data):
            services.user_sign_out_everywhere(user=obj, reason=SignIn.EndReason.ADMIN)

    def delete_model(self, request, obj):
        # Deleting the row would drop the sign-in index with it and orphan the sessions.
        services.user_sign_out_everywhere(user=obj, reason=SignIn.EndReason.ADMIN)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            services.user_sign_out_everywhere(user=user, reason=SignIn.EndReason.ADMIN)
        super().delete_queryset(request, queryset)

    @admin.action(description="Sign out everywhere (end every session and API token)")
    def sign_out_everywhere(self, request, queryset):
        ended = sum(
            services.user_sign_out_everywhere(user=user, reason=SignIn.EndReason.ADMIN)
            for user in queryset
        )
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

    list_display = [
        "user",
        "kind",
        "ip_address",
        "created_at",
        "last_seen_at",
        "expires_at",
        "ended_at",
        "end_reason",
    ]
    list_filter = [LiveFilter, "kind", "end_reason"]
    list_select_related = ["user"]
    search_fields = ["user__email", "ip_address"]
    readonly_fields = [f.name for f in SignIn._meta.fields]
    actions = ["end_sign_ins"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting a row would orphan its session instead of ending it: use the action.
        return False

    @admin.action(description="End the selected sign-ins")
    def end_sign_ins(self, request, queryset):
        ended = 0
        for sign_in in queryset.filter(ended_at__isnull=True):
            services.signin_end(sign_in=sign_in, reason=SignIn.EndReason.ADMIN)
            ended += 1
        self.message_user(
            request, f"Ended {ended} sign-in{'s' if ended != 1 else ''}.", messages.SUCCESS
        )
