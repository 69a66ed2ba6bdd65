from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from agreements.api.urls import register as register_agreements_api
from incentives.api.urls import register as register_incentives_api
from integrations.api.urls import register as register_integrations_api
from partners.api.urls import register as register_partners_api
from performance.api.urls import register as register_performance_api
from sales.api.urls import register as register_sales_api
from training.api.urls import register as register_training_api

from .account import AccountView, PasswordChangeView, SecurityLogView, switch_language
from .api.deletions import DeletionViewSet
from .api.exceptions import api_not_found
from .api.history import HistoryEntryViewSet
from .api.routers import router
from .forms import LoginForm
from .health import healthz
from .notifications_views import NotificationListView, NotificationOpenView
from .views import HomeView, JobRunStatusView

register_partners_api(router)
register_sales_api(router)
register_agreements_api(router)
register_training_api(router)
register_incentives_api(router)
register_performance_api(router)
register_integrations_api(router)
router.register("history", HistoryEntryViewSet, basename="history-entry")
router.register("deletions", DeletionViewSet, basename="deletion")

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("healthz", healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", switch_language, name="set_language"),
    path("account/", AccountView.as_view(), name="account"),
    path("account/password/", PasswordChangeView.as_view(), name="password-change"),
    path("security/", SecurityLogView.as_view(), name="security-log"),
    path("notifications/", NotificationListView.as_view(), name="notifications"),
    path("notifications/<int:pk>/", NotificationOpenView.as_view(), name="notification-open"),
    path("jobs/<int:pk>/", JobRunStatusView.as_view(), name="job-run-status"),
    path("partners/", include("partners.urls")),
    path("sales/", include("sales.urls")),
    path("agreements/", include("agreements.urls")),
    path("training/", include("training.urls")),
    path("incentives/", include("incentives.urls")),
    path("performance/", include("performance.urls")),
    path("integrations/", include("integrations.urls")),
    path("portal/", include("partners.portal_urls")),
    path("portal/agreements/", include("agreements.portal_urls")),
    path("portal/training/", include("training.portal_urls")),
    path("portal/incentives/", include("incentives.portal_urls")),
    path("portal/sales/", include("sales.portal_urls")),
    path("portal/performance/", include("performance.portal_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    re_path(r"^api/", api_not_found),
]

# Uploaded files are never served as plain static files: every download goes through a view that
# checks who is asking (see the isolation tests).
