from .views import (
    MdfBudgetViewSet,
    MdfRequestViewSet,
    OverridePolicyViewSet,
    RebatePolicyViewSet,
    RebateStatementViewSet,
)


def register(router):
    """The incentives API routes."""
    router.register("rebate-policies", RebatePolicyViewSet, basename="rebate-policy")
    router.register("override-policies", OverridePolicyViewSet, basename="override-policy")
    router.register("rebate-statements", RebateStatementViewSet, basename="rebate-statement")
    router.register("mdf-budgets", MdfBudgetViewSet, basename="mdf-budget")
    router.register("mdf-requests", MdfRequestViewSet, basename="mdf-request")
