"""Reads of the product catalogue, each in a fixed number of queries however many rows there are."""

from django.db.models import Count, Q

from .models import Product, ProductLine, SalesLine


def product_line_list(*, user):
    """Product lines with the number of their products (active and all)."""
    return ProductLine.objects.visible_to(user).annotate(
        product_count=Count("products"), active_product_count=Count("products", filter=Q(products__is_active=True))
    )


def product_list(*, user):
    """Products with their product line, joined in one query."""
    return Product.objects.visible_to(user).select_related("product_line")


def sales_line_list(*, user):
    """The sales lines this user may see (`visible_to`), with partner, product, product line and
    customer region joined in one query."""
    return SalesLine.objects.visible_to(user).select_related("partner", "product", "product_line", "customer_region")
