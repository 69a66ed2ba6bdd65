"""The base viewset: DRF handles parsing, permissions, filtering and pagination; every write goes
through the app's service, and the response shows the row as the list would."""

from rest_framework import viewsets

from .idempotency import IdempotentWritesMixin


class GenericViewSet(IdempotentWritesMixin, viewsets.GenericViewSet):
    """DRF's GenericViewSet with `Idempotency-Key` on its writes (prm.api.idempotency): the base
    of every API viewset that is not a ServiceModelViewSet."""


class ReadOnlyModelViewSet(IdempotentWritesMixin, viewsets.ReadOnlyModelViewSet):
    """DRF's ReadOnlyModelViewSet with `Idempotency-Key` on the writes of its actions."""


class ServiceModelViewSet(IdempotentWritesMixin, viewsets.ModelViewSet):
    """Subclasses implement `create_object(data)` and `update_object(instance, data)` by calling
    one service each, and `delete_object(instance)` when deleting is allowed.

    API keys (prm.api.permissions) need the scopes of the viewset's `api_area` ("partners",
    "sales"...); a viewset without one refuses them. Keys bound to a partner read only where
    `partner_readable` is set (rows of a partner-owned model come through `visible_to`; reference
    data is the same for everyone; never for vendor-only data) and write only the actions named in
    `partner_writable_actions` (e.g. "create" for the sales a partner reports)."""

    api_area = None
    partner_readable = False
    partner_writable_actions = ()

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
