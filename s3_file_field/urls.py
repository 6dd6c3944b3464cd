from django.urls import path

from .views import AbortView, FinalizeView, PartsView, PrepareView, StatusView

app_name = "s3_file_field"

urlpatterns = [
    path("upload-prepare/", PrepareView.as_view(), name="upload-prepare"),
    path("upload-parts/", PartsView.as_view(), name="upload-parts"),
    path("upload-status/", StatusView.as_view(), name="upload-status"),
    path("upload-finalize/", FinalizeView.as_view(), name="upload-finalize"),
    path("upload-abort/", AbortView.as_view(), name="upload-abort"),
]
