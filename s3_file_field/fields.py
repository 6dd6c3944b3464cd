"""`S3FileField`: a `FileField` whose files are uploaded straight to the bucket."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from django.core import checks
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.db import models
from django.db.models.fields.files import FieldFile, FileField
from django.utils.functional import cached_property

from .attach import ALREADY_ATTACHED, AttachableName, claim, held_elsewhere
from .backends import get_backend
from .backends.base import UploadBackend
from .checksums import ObjectChecksum
from .exceptions import InvalidFileName, UploadToNeedsInstance
from .filenames import accept_error, fit_key, parse_accept
from .files import S3PlaceholderFile
from .forms import S3FormFileField

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django import forms
    from rest_framework.permissions import BasePermission

DEFAULT_MAX_LENGTH = 2000


class S3FieldFile(FieldFile):
    """A stored file of an `S3FileField`."""

    @cached_property
    def checksum(self) -> ObjectChecksum | None:
        """The checksum the store keeps with the object, computed from the bytes as it took
        them (`algorithm`, base64 `value`, `type`); None where the upload had no checksum
        algorithm. Asks the store, once, unless the upload being saved carries it."""
        pending = getattr(self, "_file", None)
        if isinstance(pending, S3PlaceholderFile):
            return pending.checksum
        backend = self.field.upload_backend  # type: ignore[attr-defined]
        if backend is None or not self.name:
            return None
        stored = backend.stat_object(self.name)
        return None if stored is None else stored.checksum


class S3FileField(FileField):
    """A `FileField` that the browser fills by uploading directly to S3-compatible storage.

    `max_size` (bytes) and `accept` (HTML `accept` syntax: "image/*, application/pdf, .pdf")
    are enforced when an upload is prepared, when it is finalized, and by the widget.
    """

    description = "A file uploaded directly to S3-compatible storage"
    attr_class = S3FieldFile

    def __init__(
        self,
        *args: Any,
        max_size: int | None = None,
        accept: str | None = None,
        upload_permission_classes: Sequence[type[BasePermission] | str] | None = None,
        download_name: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("max_length", DEFAULT_MAX_LENGTH)
        kwargs.setdefault("upload_to", self.uuid_prefix_filename)
        self.max_size = max_size
        self.accept = accept
        # Kept as given (classes or dotted paths): the upload API imports them when asked.
        self.upload_permission_classes = upload_permission_classes
        # Direct uploads are stored with `Content-Disposition: ...; filename*=` the user's own
        # file name, so that browsers save them under it (keys stay sanitised).
        self.download_name = download_name
        super().__init__(*args, **kwargs)

    @staticmethod
    def uuid_prefix_filename(instance: models.Model | None, filename: str) -> str:
        """`<random uuid>/<file name>`: unguessable, and never colliding with another upload."""
        return f"{uuid4()}/{filename}"

    def direct_upload_name(self, filename: str) -> str:
        """The storage name of a direct upload: `upload_to`'s, called with no instance (none
        exists before the file is uploaded), with a random folder before the file name unless
        upload_to is the default, which has one: no two uploads ever share a key.
        UploadToNeedsInstance when a callable upload_to cannot do without an instance."""
        try:
            name = self.generate_filename(None, filename)  # type: ignore[arg-type]
        except SuspiciousFileOperation:
            raise
        except Exception as error:  # the project's own upload_to, whatever it raises
            raise UploadToNeedsInstance(
                f"upload_to of {self.id} fails without a model instance: {error!r}"
            ) from error
        if self.upload_to == self.uuid_prefix_filename:
            return name
        folder, base = posixpath.split(name)
        return posixpath.join(folder, str(uuid4()), base)

    def upload_name(self, file_name: str) -> str:
        """The storage name of a direct upload of `file_name` (already cleaned): as
        `direct_upload_name`, shortened to fit `max_length` and S3's 1,024-byte keys.
        InvalidFileName or UploadToNeedsInstance when there is none."""
        backend = self.upload_backend
        if backend is None:
            raise InvalidFileName("This field's storage does not take direct uploads.")
        try:
            return fit_key(
                self.direct_upload_name,
                file_name,
                lambda name: len(backend.bucket_key(name).encode()),
                self.max_length or 0,
            )
        except SuspiciousFileOperation:
            # The storage's get_valid_name() keeps letters, digits, "-", "_" and "."; a name
            # of only other characters (":", "***") leaves it nothing.
            raise InvalidFileName(
                "The file name has no character a storage key can keep."
            ) from None

    @property
    def id(self) -> str:
        """`"<app_label>.<ModelName>.<field_name>"`, the name clients use for this field."""
        if not hasattr(self, "model"):
            raise RuntimeError("This S3FileField is not attached to a model yet.")
        return f"{self.model._meta.label}.{self.name}"

    field_id = id

    @property
    def accept_entries(self) -> tuple[str, ...]:
        return parse_accept(self.accept)

    @property
    def upload_backend(self) -> UploadBackend | None:
        """The direct-upload backend of this field's storage; None for unsupported storages."""
        return get_backend(self.storage)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        # Keep the 1.x import path, so migrations written for django-s3-file-field still load.
        path = "s3_file_field.fields.S3FileField"
        if kwargs.get("max_length") == DEFAULT_MAX_LENGTH:
            del kwargs["max_length"]
        if kwargs.get("upload_to") == self.uuid_prefix_filename:
            del kwargs["upload_to"]
        if self.max_size is not None:
            kwargs["max_size"] = self.max_size
        if self.accept is not None:
            kwargs["accept"] = self.accept
        if self.upload_permission_classes is not None:
            kwargs["upload_permission_classes"] = list(self.upload_permission_classes)
        if self.download_name:
            kwargs["download_name"] = True
        return name, path, args, kwargs

    def formfield(self, **kwargs: Any) -> forms.Field | None:
        if self.upload_backend is not None:
            kwargs.setdefault("form_class", S3FormFileField)
            if issubclass(kwargs["form_class"], S3FormFileField):
                kwargs.setdefault("model_field", self)
                kwargs.setdefault("max_size", self.max_size)
                kwargs.setdefault("accept", self.accept)
        return super().formfield(**kwargs)

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        super().validate(value, model_instance)
        name = getattr(value, "name", None)
        pk = getattr(model_instance, "pk", None)
        if isinstance(name, AttachableName) and held_elsewhere(self, name, pk):
            raise ValidationError(ALREADY_ATTACHED, code="already_attached")

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        assigned = getattr(model_instance, self.attname)
        if isinstance(getattr(assigned, "_file", None), S3PlaceholderFile) and not getattr(
            assigned, "_committed", True
        ):
            # A finished upload (from a form, or assigned in code: `Attachment(file=...)`) is
            # in the bucket already: only its name is saved, nothing is uploaded through Django.
            setattr(model_instance, self.attname, assigned.file.name)
        file = super().pre_save(model_instance, add)
        if isinstance(file.name, AttachableName):
            # Validation found it free; the claim is what keeps a concurrent save from taking
            # it too.
            claim(self, model_instance, file.name)
            file.name = str(file.name)
        return file

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *self._check_options(), *self._check_storage()]

    def _check_options(self) -> list[checks.CheckMessage]:
        errors: list[checks.CheckMessage] = []
        if self.max_size is not None and (
            isinstance(self.max_size, bool)
            or not isinstance(self.max_size, int)
            or self.max_size < 0
        ):
            errors.append(
                checks.Error(
                    "'max_size' must be a number of bytes (an int >= 0) or None.",
                    hint="For example S3FileField(max_size=100 * 1024 * 1024) for 100 MiB.",
                    obj=self,
                    id="s3_file_field.E002",
                )
            )
        if self.accept is not None:
            message = (
                "'accept' must be a string."
                if not isinstance(self.accept, str)
                else accept_error(self.accept)
            )
            if message:
                errors.append(
                    checks.Error(
                        f"Invalid 'accept': {message}",
                        hint="Use HTML accept syntax, e.g. accept='image/*,application/pdf,.pdf'.",
                        obj=self,
                        id="s3_file_field.E003",
                    )
                )
        return errors

    def _check_storage(self) -> list[checks.CheckMessage]:
        if self.upload_backend is None:
            return [
                checks.Warning(
                    f"The storage of this field ({type(self.storage).__name__}) does not support "
                    "direct uploads; the field behaves as a plain FileField.",
                    hint="Use django-storages' S3Storage or django-minio-storage's MinioStorage.",
                    obj=self,
                    id="s3_file_field.W001",
                )
            ]
        return []


__all__ = ["FieldFile", "S3FileField"]
