from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("webhooks/", views.EndpointListView.as_view(), name="endpoint-list"),
    path("webhooks/new/", views.EndpointCreateView.as_view(), name="endpoint-create"),
    path("webhooks/<int:pk>/", views.EndpointDetailView.as_view(), name="endpoint-detail"),
    path("webhooks/<int:pk>/edit/", views.EndpointEditView.as_view(), name="endpoint-edit"),
    path("webhooks/<int:pk>/enable/", views.EndpointActionView.as_view(action="enable"), name="endpoint-enable"),
    path("webhooks/<int:pk>/disable/", views.EndpointActionView.as_view(action="disable"), name="endpoint-disable"),
    path(
        "webhooks/<int:pk>/rotate-secret/",
        views.EndpointActionView.as_view(action="rotate-secret"),
        name="endpoint-rotate-secret",
    ),
    path("webhooks/<int:pk>/delete/", views.EndpointDeleteView.as_view(), name="endpoint-delete"),
    path("webhooks/<int:pk>/test/", views.EndpointActionView.as_view(action="test"), name="endpoint-test"),
    path("deliveries/", views.DeliveryListView.as_view(), name="delivery-list"),
    path("deliveries/<int:pk>/", views.DeliveryDetailView.as_view(), name="delivery-detail"),
    path("deliveries/<int:pk>/redeliver/", views.DeliveryRedeliverView.as_view(), name="delivery-redeliver"),
]
