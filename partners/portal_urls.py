from django.urls import path

from . import portal

app_name = "portal"

urlpatterns = [
    path("", portal.PortalDashboardView.as_view(), name="dashboard"),
    path("profile/", portal.PortalProfileView.as_view(), name="profile"),
    path("profile/edit/", portal.PortalProfileEditView.as_view(), name="profile-edit"),
    path("network/", portal.PortalNetworkView.as_view(), name="network"),
    path("users/", portal.PortalUserListView.as_view(), name="user-list"),
    path("users/invite/", portal.PortalUserInviteView.as_view(), name="user-invite"),
    path("users/<int:pk>/resend/", portal.PortalUserResendView.as_view(), name="user-resend"),
    path("users/<int:pk>/deactivate/", portal.PortalUserDeactivateView.as_view(), name="user-deactivate"),
    path("users/<int:pk>/reactivate/", portal.PortalUserReactivateView.as_view(), name="user-reactivate"),
    path("invitation/<uidb64>/<token>/", portal.PortalInvitationView.as_view(), name="invitation"),
]
