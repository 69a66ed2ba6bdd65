from .views import ManagerRegionViewSet, PartnerContactViewSet, PartnerTierViewSet, PartnerViewSet, RegionViewSet


def register(router):
    router.register("regions", RegionViewSet, basename="region")
    router.register("tiers", PartnerTierViewSet, basename="tier")
    router.register("partners", PartnerViewSet, basename="partner")
    router.register("partner-contacts", PartnerContactViewSet, basename="partner-contact")
    router.register("manager-regions", ManagerRegionViewSet, basename="manager-region")
