from .views import AgreementDocumentViewSet, AgreementTargetViewSet, AgreementViewSet, RegionTargetViewSet


def register(router):
    router.register("agreements", AgreementViewSet, basename="agreement")
    router.register("agreement-targets", AgreementTargetViewSet, basename="agreement-target")
    router.register("agreement-documents", AgreementDocumentViewSet, basename="agreement-document")
    router.register("region-targets", RegionTargetViewSet, basename="region-target")
