from django.apps import AppConfig


class S3FileFieldConfig(AppConfig):
    name = "s3_file_field"
    verbose_name = "S3 File Field"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rest_framework.serializers import ModelSerializer

        from . import checks
        from .fields import S3FileField
        from .rest_framework import S3FileSerializerField

        # Every ModelSerializer then maps S3FileField to the field that takes upload values.
        ModelSerializer.serializer_field_mapping[S3FileField] = S3FileSerializerField
        checks.register()
