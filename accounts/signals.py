"""
Whoever saves a user — this site's views, the admin, ``manage.py changepassword``, a shell,
a data migration — a change of the password, ``is_active`` or a privilege ends the user's
sign-ins (``accounts.services.user_changes_end_sign_ins``), and deleting a user ends them
before the rows go (deleting through a migration's historical model leaves its sessions to
the periodic re-check).

A signal is the one hook that every ``Model.save()`` passes through, including those of
code that never calls this project's services. Only ``QuerySet.update()`` and raw SQL
bypass it; for those, sessions notice at their periodic re-check of the user row
(``SESSION_ACTIVITY_THROTTLE_SECONDS``) and refresh tokens at once (every refresh compares
the password digest it carries with the row).

The receivers listen to every sender and pick the user model by its label, so that the
historical model a data migration gets from ``apps.get_model()`` is covered too.
"""

from django.conf import settings
from django.db.models.signals import post_save, pre_delete, pre_save
from django.dispatch import receiver

from . import services
from .models import PASSWORD_HASH_UPGRADE, SignIn, User

_CHANGED = "_sign_in_fields_changed"


def _is_user_model(sender) -> bool:
    return sender._meta.label_lower == settings.AUTH_USER_MODEL.lower()


@receiver(pre_save, dispatch_uid="accounts.remember_sign_in_field_changes")
def _remember_sign_in_field_changes(sender, instance, raw, update_fields, **kwargs):
    # No shortcut on ``raw`` (loaddata) or ``_state.adding`` (User(pk=...).save() updates
    # an existing row too): the row itself says whether there is anything to compare with.
    if not _is_user_model(sender) or instance.pk is None:
        return
    names = [
        name
        for name in services.SIGN_IN_FIELDS
        # A deferred field is not written by save(); update_fields names what is.
        if name in instance.__dict__
        and (update_fields is None or name in update_fields)
        # Django re-saves the hash of the same password when its hasher's parameters
        # change (User.check_password): the password has not changed.
        and not (name == "password" and instance.__dict__.get(PASSWORD_HASH_UPGRADE))
    ]
    if not names:
        return
    stored = sender._base_manager.using(instance._state.db or "default")
    row = stored.filter(pk=instance.pk).values(*names).first()
    if row is None:
        return
    changed = {name for name in names if row[name] != getattr(instance, name)}
    if changed:
        instance.__dict__[_CHANGED] = changed


@receiver(post_save, dispatch_uid="accounts.end_sign_ins_after_a_change")
def _end_sign_ins_after_a_change(sender, instance, raw, **kwargs):
    changed = instance.__dict__.pop(_CHANGED, None)
    if not changed or not _is_user_model(sender):
        return
    services.user_changes_end_sign_ins(
        user=instance, changed=changed, keep=getattr(instance, "_sign_in_kept", None)
    )


# For the user model only: a receiver for every sender would stop Django from deleting any
# model's rows in bulk ("fast deletes").
@receiver(pre_delete, sender=User, dispatch_uid="accounts.end_sign_ins_before_a_delete")
def _end_sign_ins_before_a_delete(sender, instance, **kwargs):
    # The sign-in rows go with the user (on_delete=CASCADE), but the sessions in their
    # store and the token chains' denylist entries would not.
    services.user_sign_out_everywhere(user=instance, reason=SignIn.EndReason.ADMIN)
