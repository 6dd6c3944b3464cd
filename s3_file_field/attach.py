"""Attaching a finalized upload to a record: once, atomically, and only by its uploader."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, router, transaction

from .conf import get_settings
from .exceptions import OtherUploader, UploadAlreadyAttached
from .values import FieldValue, read_field_value

if TYPE_CHECKING:
    from django.db import models

    from .fields import S3FileField

ALREADY_ATTACHED = "This upload is already attached to a record; upload the file again."
OTHER_UPLOADER = "This upload was made by another user; upload the file again."
UNKNOWN_SUBMITTER = (
    "This upload was made by a signed-in user, and the site cannot tell who is sending it "
    "here; upload the file again."
)


class AttachableName(str):
    """The storage name of a checked field value, not attached yet: saving the record that
    holds it claims it (`S3FileField.pre_save`)."""


def uploader_of(request: Any) -> str | None:
    """Who makes an upload, as values carry it: the user's primary key, None if anonymous."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return str(user.pk)


def uploader_refusal(uploader: str | None, request: Any, bound: bool) -> str | None:
    """Why `request` may not use an upload made by `uploader` (another signed-in user), or
    None; `bound`: `S3FF_VALUES_BOUND_TO_UPLOADER`."""
    if uploader is None or not bound:
        return None
    if request is None:
        return UNKNOWN_SUBMITTER
    if uploader_of(request) != uploader:
        return OTHER_UPLOADER
    return None


def checked_field_value(value: Any, field_id: str, request: Any) -> FieldValue:
    """A submitted field value as every way in checks it (forms, serializers, a form's widget
    rendering it back): signed for the field `field_id`, not expired, and `request`'s to use.
    Raises InvalidSignedValue or OtherUploader, with the reason."""
    config = get_settings()
    upload = read_field_value(value, field_id, max_age=config.field_value_max_age)
    refusal = uploader_refusal(upload.uploader, request, config.values_bound_to_uploader)
    if refusal:
        raise OtherUploader(refusal)
    return upload


# `models` is imported where used: this module is imported with the package, while Django is
# still loading apps, and a model class cannot be defined before that is done.


def _digest(field: S3FileField, name: str) -> str:
    return hashlib.sha256(f"{field.id}\n{name}".encode()).hexdigest()


def _row_holds(field: S3FileField, name: str, pk: Any, using: str | None = None) -> bool:
    """Whether the record with primary key `pk` holds `name` in the database already."""
    if pk is None:
        return False
    rows = field.model._base_manager.db_manager(using).filter(pk=pk, **{field.attname: name})
    return bool(rows.exists())


def held_elsewhere(field: S3FileField, name: str, pk: Any) -> bool:
    """Whether a record other than the one with primary key `pk` holds or held `name`.

    The base manager sees every row, those a default manager hides (soft-deleted ones) too.
    """
    from .models import UploadClaim

    if _row_holds(field, name, pk):
        return False  # the record holding it is saved again (a retried request)
    rows = field.model._base_manager.filter(**{field.attname: name})
    return bool(rows.exists() or UploadClaim.objects.filter(digest=_digest(field, name)).exists())


def claim(field: S3FileField, instance: models.Model, name: str) -> None:
    """Record that `instance` takes `name`; UploadAlreadyAttached if another record did."""
    from .models import UploadClaim

    using = router.db_for_write(type(instance), instance=instance)
    try:
        # A savepoint: the conflict must not break the transaction the record is saved in.
        with transaction.atomic(using=using):
            UploadClaim.objects.using(using).create(digest=_digest(field, name))
    except IntegrityError:
        if _row_holds(field, name, instance.pk, using):
            return
        raise UploadAlreadyAttached(ALREADY_ATTACHED) from None
    # Rows saved before claims existed (or by code that bypasses fields) hold no claim.
    others = field.model._base_manager.db_manager(using).filter(**{field.attname: name})
    if instance.pk is not None:
        others = others.exclude(pk=instance.pk)
    if others.exists():
        raise UploadAlreadyAttached(ALREADY_ATTACHED)
