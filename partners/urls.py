from django.urls import path

from . import views

app_name = "partners"

urlpatterns = [
    path("", views.PartnerListView.as_view(), name="partner-list"),
    path("new/", views.PartnerCreateView.as_view(), name="partner-create"),
    path("<int:pk>/", views.PartnerDetailView.as_view(), name="partner-detail"),
    path("<int:pk>/edit/", views.PartnerUpdateView.as_view(), name="partner-edit"),
    path("<int:pk>/status/", views.PartnerStatusView.as_view(), name="partner-status"),
    path("<int:pk>/move/", views.PartnerMoveView.as_view(), name="partner-move"),
    path("<int:pk>/contacts/new/", views.ContactCreateView.as_view(), name="contact-create"),
    path("contacts/<int:pk>/edit/", views.ContactUpdateView.as_view(), name="contact-edit"),
    path("contacts/<int:pk>/delete/", views.ContactDeleteView.as_view(), name="contact-delete"),
    path("regions/", views.RegionTreeView.as_view(), name="region-tree"),
    path("regions/new/", views.RegionCreateView.as_view(), name="region-create"),
    path("regions/<int:pk>/edit/", views.RegionUpdateView.as_view(), name="region-edit"),
    path("tiers/", views.TierListView.as_view(), name="tier-list"),
    path("tiers/new/", views.TierCreateView.as_view(), name="tier-create"),
    path("tiers/<int:pk>/edit/", views.TierUpdateView.as_view(), name="tier-edit"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="api-key-list"),
    path("api-keys/new/", views.ApiKeyCreateView.as_view(), name="api-key-create"),
    path("api-keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
]
