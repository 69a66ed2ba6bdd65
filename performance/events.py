"""The webhook events of performance (scorecard.published, region.flagged), recorded by its
services inside the month's transaction: `data` is the scorecard or the flag as its API detail
endpoint (GET /api/v1/scorecards/{id}/, /api/v1/region-flags/{id}/) shows it to vendor staff."""

from integrations.choices import EventType
from integrations.events import api_data, event_record_many

from .models import RegionFlag, Scorecard


def scorecards_published(period, partner_ids):
    """scorecard.published once for the scorecard of `period` of each of `partner_ids`: a fixed
    number of queries however many (a month can publish 10,000 at once)."""
    from .api.serializers import ScorecardSerializer

    if not partner_ids:
        return []
    # The whole month in one read rather than an IN list of thousands of ids.
    rows = [
        row
        for row in Scorecard.objects.filter(period=period).select_related("partner").order_by("partner_id")
        if row.partner_id in partner_ids
    ]
    data = api_data(ScorecardSerializer(rows, many=True))
    return event_record_many(
        {"event_type": EventType.SCORECARD_PUBLISHED, "data": item, "object_id": row.pk, "partner": row.partner}
        for row, item in zip(rows, data, strict=True)
    )


def regions_flagged(flags):
    """region.flagged once for each of the newly opened `flags`."""
    from .api.serializers import RegionFlagSerializer

    rows = list(RegionFlag.objects.filter(pk__in=[flag.pk for flag in flags]).select_related("region").order_by("pk"))
    data = api_data(RegionFlagSerializer(rows, many=True))
    return event_record_many(
        {"event_type": EventType.REGION_FLAGGED, "data": item, "object_id": row.pk}
        for row, item in zip(rows, data, strict=True)
    )
