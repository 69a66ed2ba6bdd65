from django.urls import path

from . import views

app_name = "sales"

urlpatterns = [
    path("product-lines/", views.ProductLineListView.as_view(), name="product-line-list"),
    path("product-lines/new/", views.ProductLineCreateView.as_view(), name="product-line-create"),
    path("product-lines/<int:pk>/edit/", views.ProductLineUpdateView.as_view(), name="product-line-edit"),
    path("products/", views.ProductListView.as_view(), name="product-list"),
    path("products/new/", views.ProductCreateView.as_view(), name="product-create"),
    path("products/<int:pk>/edit/", views.ProductUpdateView.as_view(), name="product-edit"),
    path("lines/", views.SalesLineListView.as_view(), name="sales-line-list"),
    path("lines/import/", views.SalesLineImportView.as_view(), name="sales-line-import"),
    path("lines/import/template.csv", views.SalesLineImportTemplateView.as_view(), name="sales-line-import-template"),
]
