"""The staff pages of performance, under /performance/ ("performance" namespace)."""

from django.urls import path  # noqa: F401

from . import flag_views, setup_views, views

app_name = "performance"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("scorecards/", views.ScorecardListView.as_view(), name="scorecard-list"),
    path("regions/<int:pk>/", views.RegionDetailView.as_view(), name="region-detail"),
    path("flags/", flag_views.FlagListView.as_view(), name="flag-list"),
    path("flags/<int:pk>/", flag_views.FlagDetailView.as_view(), name="flag-detail"),
    path("flags/<int:pk>/acknowledge/", flag_views.FlagAcknowledgeView.as_view(), name="flag-acknowledge"),
    path("flags/<int:pk>/plan/", flag_views.FlagPlanView.as_view(), name="flag-plan"),
    path("flags/<int:pk>/resolve/", flag_views.FlagResolveView.as_view(), name="flag-resolve"),
    path("rules/", setup_views.RuleListView.as_view(), name="rule-list"),
    path("templates/", setup_views.TemplateListView.as_view(), name="template-list"),
    path("templates/new/", setup_views.TemplateCreateView.as_view(), name="template-create"),
    path("templates/<int:pk>/edit/", setup_views.TemplateEditView.as_view(), name="template-edit"),
    path("runs/", setup_views.RunListView.as_view(), name="runs"),
    path("satisfaction/", setup_views.SatisfactionListView.as_view(), name="satisfaction-list"),
    path("satisfaction/new/", setup_views.SatisfactionCreateView.as_view(), name="satisfaction-create"),
]
