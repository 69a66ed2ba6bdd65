"""Shared builders for the training tests: the actors and a classroom session in the future."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from tests.factories import ChannelAdminFactory, ClassroomCourseFactory, TrainingSessionFactory


def admin():
    return ChannelAdminFactory(username="training-admin")


def moment(days, hour=9):
    """An aware datetime `days` from today at `hour` o'clock, local time."""
    return timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=days), time(hour)))


def session(*, days=14, capacity=20, course=None, **kwargs):
    course = course or ClassroomCourseFactory()
    return TrainingSessionFactory(
        course=course, starts_at=moment(days), ends_at=moment(days, 17), capacity=capacity, **kwargs
    )
