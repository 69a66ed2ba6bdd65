"""The signed-in person's notifications: newest first, paginated; opening one marks it read and
follows its link; "mark all read". Staff and partner users alike, each seeing only their own."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import ListView

from .notifications import notifications_for, notifications_mark_read


class NotificationListView(LoginRequiredMixin, ListView):
    template_name = "notifications.html"
    context_object_name = "notifications"
    paginate_by = 25
    page_size_choices = (25, 50, 100)

    def get_queryset(self):
        return notifications_for(self.request.user).order_by("-created_at", "-id")

    def get_paginate_by(self, queryset):
        try:
            size = int(self.request.GET.get("page_size", self.paginate_by))
        except ValueError:
            return self.paginate_by
        return size if size in self.page_size_choices else self.paginate_by

    def paginate_queryset(self, queryset, page_size):
        # Like the other lists: a page past the end shows the last page, never a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        return super().get_context_data(page_size_choices=self.page_size_choices, **kwargs)

    def post(self, request, *args, **kwargs):
        """Mark every notification read."""
        if notifications_mark_read(user=request.user):
            messages.success(request, _("All notifications are marked read."))
        return redirect("notifications")


class NotificationOpenView(LoginRequiredMixin, View):
    """Mark one of the user's own notifications read and follow its link (a link to another
    site is never followed: the list is shown instead). Anyone else's answers 404."""

    def get(self, request, pk):
        notification = get_object_or_404(notifications_for(request.user), pk=pk)
        notifications_mark_read(user=request.user, notification=notification)
        url = notification.url
        if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False):
            return redirect(url)
        return redirect("notifications")
