"""Hierarchies stored as materialized paths ("/1/5/12/"): a node's subtree or ancestors are one
query whatever the depth. Used by regions and by the multi-tier partner network."""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class TreeQuerySet(models.QuerySet):
    def subtree_of(self, node, include_self=True):
        """`node` and everything below it, in one query."""
        queryset = self.filter(path__startswith=node.path)
        return queryset if include_self else queryset.exclude(pk=node.pk)


def tree_touched(model):
    """`{"updated_at": now}` when the model has that field, else nothing: a node whose path or
    level changes has changed for a system syncing with `updated_since` (QuerySet.update() and
    bulk_update() skip auto_now)."""
    fields = {field.name for field in model._meta.concrete_fields}
    return {"updated_at": timezone.now()} if "updated_at" in fields else {}


class TreeNode(models.Model):
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=255, editable=False, blank=True, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(_("level"), editable=False, default=1)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)
            self._sync_path()

    def _sync_path(self):
        manager = type(self)._base_manager
        parent_path = manager.values_list("path", flat=True).get(pk=self.parent_id) if self.parent_id else "/"
        new_path = f"{parent_path}{self.pk}/"
        if new_path == self.path:
            return
        old_path, old_depth = self.path, self.depth
        new_depth = new_path.count("/") - 1
        touched = tree_touched(type(self))
        manager.filter(pk=self.pk).update(path=new_path, depth=new_depth, **touched)
        if old_path:
            # Re-root the whole subtree in one statement.
            manager.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
                depth=F("depth") + (new_depth - old_depth),
                **touched,
            )
        self.path, self.depth = new_path, new_depth

    def ancestor_ids(self):
        return path_ids(self.path)[:-1]

    def ancestors(self):
        """From the root down to the parent, in one query."""
        ids = self.ancestor_ids()
        nodes = {node.pk: node for node in type(self)._default_manager.filter(pk__in=ids)}
        return [nodes[pk] for pk in ids if pk in nodes]

    def subtree_height(self):
        """Levels in this node's subtree, itself included (a leaf has height 1)."""
        if not self.pk or not self.path:
            return 1
        deepest = type(self)._base_manager.filter(path__startswith=self.path).aggregate(d=Max("depth"))["d"]
        return (deepest or self.depth) - self.depth + 1


def path_ids(path):
    """The ids a materialised path names, root first and the node itself last:
    "/1/5/9/" → [1, 5, 9]; an empty or missing path names none."""
    return [int(part) for part in (path or "").strip("/").split("/") if part]


def tree_check_parent(node, parent, *, max_depth=None, field="parent"):
    """Refuse a parent that would make a cycle, or a tree deeper than `max_depth`."""
    if parent is None:
        return
    if node.pk and (parent.pk == node.pk or f"/{node.pk}/" in parent.path):
        raise ValidationError(
            {
                field: gettext("%(parent)s is %(node)s itself or below it: that would make a cycle.")
                % {"parent": parent, "node": node}
            }
        )
    if max_depth is not None:
        depth = parent.depth + node.subtree_height()
        if depth > max_depth:
            raise ValidationError(
                {
                    field: gettext("Under %(parent)s this would be %(depth)s levels deep; at most %(max)s are allowed.")
                    % {"parent": parent, "depth": depth, "max": max_depth}
                }
            )
