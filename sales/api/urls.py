from .views import ProductLineViewSet, ProductViewSet, SalesLineViewSet


def register(router):
    router.register("product-lines", ProductLineViewSet, basename="product-line")
    router.register("products", ProductViewSet, basename="product")
    router.register("sales-lines", SalesLineViewSet, basename="sales-line")
