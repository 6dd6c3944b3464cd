from django.contrib import admin
from django.urls import include, path

from test_app import views
from test_app.api import router

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("resources/new/", views.ResourceCreateView.as_view(), name="resource-new"),
    path("resources/<int:pk>/edit/", views.ResourceUpdateView.as_view(), name="resource-edit"),
    path("limited/new/", views.LimitedResourceCreateView.as_view(), name="limited-new"),
    path(
        "resources/new-with-attachments/",
        views.ResourceWithAttachmentsCreateView.as_view(),
        name="resource-with-attachments-new",
    ),
    path("reports/new/", views.ReportCreateView.as_view(), name="report-new"),
    path("multi/new/", views.MultiResourceCreateView.as_view(), name="multi-new"),
    path("multi/<int:pk>/edit/", views.MultiResourceUpdateView.as_view(), name="multi-edit"),
    path("spa/", views.SpaView.as_view(), name="spa"),
    path("admin/", admin.site.urls),
    path("api/", include(router.urls)),
    path("api/s3-upload/", include("s3_file_field.urls")),
]
