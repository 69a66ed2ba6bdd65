from django.contrib import admin

from .models import Product, ProductLine, SalesLine


class ProductInline(admin.TabularInline):
    model = Product
    extra = 0
    fields = ["sku", "name", "unit", "list_price", "is_active"]


@admin.register(ProductLine)
class ProductLineAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ProductInline]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "product_line", "unit", "list_price", "is_active"]
    list_filter = ["is_active", "product_line"]
    search_fields = ["sku", "name", "product_line__code", "product_line__name"]
    list_select_related = ["product_line"]
    autocomplete_fields = ["product_line"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(SalesLine)
class SalesLineAdmin(admin.ModelAdmin):
    list_display = ["sold_on", "partner", "product_line", "product", "quantity", "unit_price", "amount", "source"]
    list_filter = ["source", "product_line"]
    search_fields = ["partner__code", "partner__name", "customer_name", "customer_id", "external_id"]
    list_select_related = ["partner", "product_line", "product"]
    raw_id_fields = ["partner", "product", "customer_region"]
    autocomplete_fields = ["product_line"]
    date_hierarchy = "sold_on"
    readonly_fields = ["created_at"]
