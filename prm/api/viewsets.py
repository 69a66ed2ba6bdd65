"""The base viewset: DRF handles parsing, permissions, filtering and pagination; every write goes
through the app's service, and the response shows the row as the list would."""

from rest_framework import viewsets


class ServiceModelViewSet(viewsets.ModelViewSet):
    """Subclasses implement `create_object(data)` and `update_object(instance, data)` by calling
    one service each, and `delete_object(instance)` when deleting is allowed."""

    def create_object(self, data):
        raise NotImplementedError

    def update_object(self, instance, data):
        raise NotImplementedError

    def delete_object(self, instance):
        instance.delete()

    def perform_create(self, serializer):
        obj = self.create_object(serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=obj.pk)

    def perform_update(self, serializer):
        obj = self.update_object(serializer.instance, serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=obj.pk)

    def perform_destroy(self, instance):
        self.delete_object(instance)
