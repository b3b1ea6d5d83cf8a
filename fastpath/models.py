"""Building model instances from loaded rows without ``Model.__init__()``."""

from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init


def instance_from_db(model, db: str, field_names, values):
    """
    Build an instance as ``model.from_db()`` would, the way Django rebuilds an unpickled
    one: ``__new__()`` and the loaded values, with the state ``Model.from_db()`` leaves (from
    ``db``, not being added); fields not loaded are deferred, as there.

    Every authenticated request on the fast path builds one user (from the session's
    snapshot, or from the row in JWT ``db`` mode), and ``Model.__init__()`` walks every field
    to do it. If anything listens to ``pre_init``/``post_init`` for the model, Django's own
    path runs, so that those receivers still see every instance.
    """
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model.from_db(db, field_names, values)
    instance = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = db
    instance.__dict__.update(zip(field_names, values, strict=True), _state=state)
    return instance
