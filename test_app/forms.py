from django import forms

from test_app.models import LimitedResource, MultiResource, Report, Resource


class ResourceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Resource
        fields = ["blob"]


class ReportForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Report
        fields = ["title", "file"]


class LimitedResourceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = LimitedResource
        fields = ["image", "document"]


class MultiResourceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = MultiResource
        fields = ["blob", "optional_blob"]
