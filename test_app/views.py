from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.views.generic import CreateView, TemplateView, UpdateView

from s3_file_field.widgets import upload_api_base_url
from test_app.forms import (
    LimitedResourceForm,
    MultiResourceForm,
    ReportForm,
    ResourceForm,
    ResourceWithAttachmentsForm,
)
from test_app.models import LimitedResource, MultiResource, Report, Resource


class HomeView(TemplateView):
    template_name = "test_app/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["resources"] = Resource.objects.order_by("-id")[:10]
        context["multi_resources"] = MultiResource.objects.order_by("-id")[:10]
        return context


class DemoFormPage:
    """The demo's form pages: one template; after saving, the record's edit page (or home)."""

    template_name: str | None = "test_app/form.html"
    edit_url_name: str | None = None

    def get_success_url(self) -> str:
        if self.edit_url_name is None:
            return reverse("home")
        return reverse(self.edit_url_name, args=[self.object.pk])  # type: ignore[attr-defined]


class ResourceCreateView(DemoFormPage, CreateView):  # type: ignore[type-arg]
    model = Resource
    form_class = ResourceForm
    extra_context = {"title": "New resource"}
    edit_url_name = "resource-edit"


class ResourceUpdateView(DemoFormPage, UpdateView):  # type: ignore[type-arg]
    model = Resource
    form_class = ResourceForm
    extra_context = {"title": "Edit resource"}
    edit_url_name = "resource-edit"


class ResourceWithAttachmentsCreateView(DemoFormPage, CreateView):  # type: ignore[type-arg]
    model = Resource
    form_class = ResourceWithAttachmentsForm
    extra_context = {"title": "New resource with attachments"}
    edit_url_name = "resource-edit"


class ReportCreateView(DemoFormPage, CreateView):  # type: ignore[type-arg]
    model = Report
    form_class = ReportForm
    extra_context = {"title": "New report"}


class LimitedResourceCreateView(DemoFormPage, CreateView):  # type: ignore[type-arg]
    model = LimitedResource
    form_class = LimitedResourceForm
    extra_context = {"title": "New limited resource"}


class MultiResourceCreateView(DemoFormPage, CreateView):  # type: ignore[type-arg]
    model = MultiResource
    form_class = MultiResourceForm
    extra_context = {"title": "New resource with an optional file"}
    edit_url_name = "multi-edit"


class MultiResourceUpdateView(DemoFormPage, UpdateView):  # type: ignore[type-arg]
    model = MultiResource
    form_class = MultiResourceForm
    extra_context = {"title": "Edit resource with an optional file"}
    edit_url_name = "multi-edit"


class SpaView(TemplateView):
    """Many files at once through the npm client, saved through the REST API."""

    template_name = "test_app/spa.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["upload_api"] = upload_api_base_url()
        return context
