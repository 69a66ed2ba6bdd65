"""Background jobs of the webhooks: a task loads ids and calls integrations.services. None is
retried by Celery: a delivery that fails waits for its next attempt, which the sweep makes."""

from celery import shared_task

from . import services


@shared_task
def delivery_send(delivery_id):
    """One attempt at a delivery, queued when its event commits (or on redelivery); nothing when
    another worker has it or it is not due. Returns whether an attempt was made."""
    return services.delivery_attempt(delivery_id=delivery_id) is not None


@shared_task
def deliveries_send(delivery_ids):
    """One attempt at each of these deliveries: the many a large commit queued (in chunks)."""
    return services.deliveries_send(delivery_ids)


@shared_task
def deliveries_send_due():
    """Every minute (beat): send every delivery that is due, including those whose task was lost
    and the retries whose wait is over. Returns how many were attempted."""
    return services.deliveries_send_due()
