from rest_framework import routers, serializers, viewsets

from test_app.models import MultiResource, Resource


class ResourceSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Resource
        fields = ["id", "blob"]


class MultiResourceSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = MultiResource
        fields = ["id", "blob", "optional_blob"]


class ResourceViewSet(viewsets.ModelViewSet):  # type: ignore[type-arg]
    queryset = Resource.objects.order_by("id")
    serializer_class = ResourceSerializer


class MultiResourceViewSet(viewsets.ModelViewSet):  # type: ignore[type-arg]
    queryset = MultiResource.objects.order_by("id")
    serializer_class = MultiResourceSerializer


router = routers.DefaultRouter()
router.register("resources", ResourceViewSet)
router.register("multi-resources", MultiResourceViewSet)
