from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("", views.CourseListView.as_view(), name="course-list"),
    path("courses/new/", views.CourseEditView.as_view(), name="course-create"),
    path("courses/<int:pk>/", views.CourseDetailView.as_view(), name="course-detail"),
    path("courses/<int:pk>/edit/", views.CourseEditView.as_view(), name="course-edit"),
    path("courses/<int:pk>/materials/new/", views.MaterialAddView.as_view(), name="material-add"),
    path("courses/<int:pk>/sessions/", views.SessionListView.as_view(), name="session-list"),
    path("courses/<int:pk>/sessions/new/", views.SessionCreateView.as_view(), name="session-create"),
    path("courses/<int:pk>/enrol/", views.EnrolView.as_view(), name="enrol"),
    path("materials/<int:pk>/", views.MaterialDownloadView.as_view(), name="material-download"),
    path("materials/<int:pk>/delete/", views.MaterialDeleteView.as_view(), name="material-delete"),
    path("sessions/<int:pk>/edit/", views.SessionUpdateView.as_view(), name="session-edit"),
    path("sessions/<int:pk>/cancel/", views.SessionCancelView.as_view(), name="session-cancel"),
    path("records/<int:pk>/start/", views.RecordStartView.as_view(), name="record-start"),
    path("records/<int:pk>/result/", views.RecordResultView.as_view(), name="record-result"),
    path("records/<int:pk>/withdraw/", views.RecordWithdrawView.as_view(), name="record-withdraw"),
    path("records/<int:pk>/certificate/", views.CertificateView.as_view(), name="certificate"),
    path("import/", views.ImportView.as_view(), name="import"),
    path("import/template.csv", views.ImportTemplateView.as_view(), name="import-template"),
    path("matrix/", views.MatrixView.as_view(), name="matrix"),
    path("report/", views.CompletionReportView.as_view(), name="completion-report"),
    path("expiring/", views.ExpiringView.as_view(), name="expiring"),
]
