from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.views.generic import CreateView, ListView, TemplateView, UpdateView

from test_app.forms import LimitedResourceForm, ResourceForm
from test_app.models import LimitedResource, Resource


class HomeView(TemplateView):
    template_name = "test_app/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["resources"] = Resource.objects.order_by("-id")[:20]
        return context


class ResourceCreateView(CreateView):  # type: ignore[type-arg]
    model = Resource
    form_class = ResourceForm
    template_name = "test_app/form.html"

    def get_success_url(self) -> str:
        return reverse("resource-edit", args=[self.object.pk])  # type: ignore[union-attr]


class ResourceUpdateView(UpdateView):  # type: ignore[type-arg]
    model = Resource
    form_class = ResourceForm
    template_name = "test_app/form.html"

    def get_success_url(self) -> str:
        return reverse("resource-edit", args=[self.object.pk])


class LimitedResourceCreateView(CreateView):  # type: ignore[type-arg]
    model = LimitedResource
    form_class = LimitedResourceForm
    template_name = "test_app/form.html"

    def get_success_url(self) -> str:
        return reverse("home")


class ResourceListView(ListView):  # type: ignore[type-arg]
    model = Resource
    template_name = "test_app/home.html"
