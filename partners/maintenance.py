"""Repairs of derived data. Set-based: one read of the tree, one bulk write of what changed."""

from django.db import transaction

from prm.tree import tree_touched

from .models import Partner, Region


def _rebuild(model):
    nodes = list(model._base_manager.order_by("depth", "pk").values_list("pk", "parent_id", "path", "depth"))
    parents = {pk: parent for pk, parent, _path, _depth in nodes}
    computed = {}

    def path_of(pk, seen=()):
        if pk in computed:
            return computed[pk]
        parent = parents[pk]
        if parent is None or parent in seen:
            result = f"/{pk}/"
        else:
            result = f"{path_of(parent, (*seen, pk))}{pk}/"
        computed[pk] = result
        return result

    changed = []
    touched = tree_touched(model)
    for pk, _parent, path, depth in nodes:
        new_path = path_of(pk)
        new_depth = new_path.count("/") - 1
        if new_path != path or new_depth != depth:
            changed.append(model(pk=pk, path=new_path, depth=new_depth, **touched))
    model._base_manager.bulk_update(changed, ["path", "depth", *touched], batch_size=500)
    return len(changed)


@transaction.atomic
def tree_paths_rebuild():
    """Recompute the materialized paths of regions and of the partner network; returns the
    number of rows corrected."""
    return _rebuild(Region) + _rebuild(Partner)
