from django.contrib import admin

from test_app.models import (
    Attachment,
    LimitedResource,
    MinioResource,
    MultiResource,
    Report,
    Resource,
)


class AttachmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Attachment
    extra = 0


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    inlines = [AttachmentInline]


admin.site.register([MultiResource, LimitedResource, MinioResource, Report])
