"""Model fields shared by the apps."""

from django.db import models


class URLField(models.URLField):
    """A URL whose forms assume https:// when a user types "www.example.cn" without a scheme."""

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})
