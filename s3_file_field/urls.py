from django.urls import path

from .legacy import (
    LegacyCompleteView,
    LegacyFinalizeView,
    LegacyInitializeView,
    legacy_completed,
)
from .views import AbortView, FinalizeView, PartsView, PrepareView, StatusView

app_name = "s3_file_field"

urlpatterns = [
    path("upload-prepare/", PrepareView.as_view(), name="upload-prepare"),
    path("upload-parts/", PartsView.as_view(), name="upload-parts"),
    path("upload-status/", StatusView.as_view(), name="upload-status"),
    path("upload-finalize/", FinalizeView.as_view(), name="upload-finalize"),
    path("upload-abort/", AbortView.as_view(), name="upload-abort"),
    # django-s3-file-field 1.x's protocol, for its clients (legacy.py).
    path("upload-initialize/", LegacyInitializeView.as_view(), name="upload-initialize"),
    path("upload-complete/", LegacyCompleteView.as_view(), name="upload-complete"),
    path("upload-complete/done/", legacy_completed, name="legacy-completed"),
    path("finalize/", LegacyFinalizeView.as_view(), name="finalize"),
]
