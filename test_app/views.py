from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.views.generic import CreateView, TemplateView, UpdateView

from s3_file_field.widgets import upload_api_base_url
from test_app.forms import LimitedResourceForm, MultiResourceForm, ResourceForm
from test_app.models import LimitedResource, MultiResource, Resource


class HomeView(TemplateView):
    template_name = "test_app/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["resources"] = Resource.objects.order_by("-id")[:10]
        context["multi_resources"] = MultiResource.objects.order_by("-id")[:10]
        return context


class ResourceCreateView(CreateView):  # type: ignore[type-arg]
    model = Resource
    form_class = ResourceForm
    template_name = "test_app/form.html"
    extra_context = {"title": "New resource"}

    def get_success_url(self) -> str:
        return reverse("resource-edit", args=[self.object.pk])  # type: ignore[union-attr]


class ResourceUpdateView(UpdateView):  # type: ignore[type-arg]
    model = Resource
    form_class = ResourceForm
    template_name = "test_app/form.html"
    extra_context = {"title": "Edit resource"}

    def get_success_url(self) -> str:
        return reverse("resource-edit", args=[self.object.pk])


class LimitedResourceCreateView(CreateView):  # type: ignore[type-arg]
    model = LimitedResource
    form_class = LimitedResourceForm
    template_name = "test_app/form.html"
    extra_context = {"title": "New limited resource"}

    def get_success_url(self) -> str:
        return reverse("home")


class MultiResourceCreateView(CreateView):  # type: ignore[type-arg]
    model = MultiResource
    form_class = MultiResourceForm
    template_name = "test_app/form.html"
    extra_context = {"title": "New resource with an optional file"}

    def get_success_url(self) -> str:
        return reverse("multi-edit", args=[self.object.pk])  # type: ignore[union-attr]


class MultiResourceUpdateView(UpdateView):  # type: ignore[type-arg]
    model = MultiResource
    form_class = MultiResourceForm
    template_name = "test_app/form.html"
    extra_context = {"title": "Edit resource with an optional file"}

    def get_success_url(self) -> str:
        return reverse("multi-edit", args=[self.object.pk])


class SpaView(TemplateView):
    """Many files at once through the npm client, saved through the REST API."""

    template_name = "test_app/spa.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["upload_api"] = upload_api_base_url()
        return context
