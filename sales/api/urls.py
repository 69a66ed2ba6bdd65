from .views import ProductLineViewSet, ProductViewSet


def register(router):
    router.register("product-lines", ProductLineViewSet, basename="product-line")
    router.register("products", ProductViewSet, basename="product")
