"""Materialized paths ("/1/5/12/") for regions and the partner network, and their repair."""

import pytest

from partners import maintenance, services
from partners.models import Partner, Region
from tests.factories import DistributorFactory, PartnerFactory, RegionFactory

pytestmark = pytest.mark.django_db


def paths(model):
    return dict(model.objects.values_list("pk", "path"))


def depths(model):
    return dict(model.objects.values_list("pk", "depth"))


@pytest.fixture
def chain():
    """A three-level network: top → middle → leaf."""
    top = DistributorFactory()
    middle = DistributorFactory(parent=top)
    leaf = PartnerFactory(parent=middle)
    return top, middle, leaf


def test_a_new_node_gets_its_path_and_depth(chain):
    top, middle, leaf = chain

    assert paths(Partner) == {
        top.pk: f"/{top.pk}/",
        middle.pk: f"/{top.pk}/{middle.pk}/",
        leaf.pk: f"/{top.pk}/{middle.pk}/{leaf.pk}/",
    }
    assert depths(Partner) == {top.pk: 1, middle.pk: 2, leaf.pk: 3}
    assert (leaf.path, leaf.depth, leaf.network_level) == (f"/{top.pk}/{middle.pk}/{leaf.pk}/", 3, 3)


def test_saving_a_new_parent_moves_the_node_and_its_subtree():
    old_root, new_root = RegionFactory(), RegionFactory()
    moved = RegionFactory(parent=old_root)
    child = RegionFactory(parent=moved)
    grandchild = RegionFactory(parent=child)

    moved.parent = new_root
    moved.save()

    assert (moved.path, moved.depth) == (f"/{new_root.pk}/{moved.pk}/", 2)
    assert paths(Region)[child.pk] == f"/{new_root.pk}/{moved.pk}/{child.pk}/"
    assert paths(Region)[grandchild.pk] == f"/{new_root.pk}/{moved.pk}/{child.pk}/{grandchild.pk}/"
    assert depths(Region)[grandchild.pk] == 4
    assert paths(Region)[old_root.pk] == f"/{old_root.pk}/"


def test_moving_up_makes_the_subtree_shallower():
    root = RegionFactory()
    middle = RegionFactory(parent=root)
    moved = RegionFactory(parent=middle)
    child = RegionFactory(parent=moved)

    moved.parent = None
    moved.save()

    assert depths(Region) == {root.pk: 1, middle.pk: 2, moved.pk: 1, child.pk: 2}
    assert paths(Region)[child.pk] == f"/{moved.pk}/{child.pk}/"


def test_a_subtree_does_not_include_regions_whose_id_shares_a_prefix():
    root = RegionFactory(id=501)
    child = RegionFactory(parent=root)
    lookalike = RegionFactory(id=5011)

    subtree = set(Region.objects.subtree_of(root).values_list("pk", flat=True))

    assert subtree == {root.pk, child.pk}
    assert lookalike.pk not in subtree
    assert set(Region.objects.subtree_of(root, include_self=False).values_list("pk", flat=True)) == {child.pk}


def test_ancestors_are_root_first_in_one_query(chain, django_assert_num_queries):
    top, middle, leaf = chain
    leaf = Partner.objects.get(pk=leaf.pk)

    with django_assert_num_queries(1):
        ancestors = leaf.ancestors()

    assert ancestors == [top, middle]
    assert leaf.ancestor_ids() == [top.pk, middle.pk]


def test_a_root_has_no_ancestors_and_asks_the_database_nothing(chain, django_assert_num_queries):
    top, _, _ = chain

    with django_assert_num_queries(0):
        assert top.ancestors() == []


def test_ancestors_follow_a_move(chain):
    top, middle, leaf = chain
    other = DistributorFactory()

    services.partner_move(partner=middle, parent=other)

    assert Partner.objects.get(pk=leaf.pk).ancestors() == [other, middle]


def test_subtree_height_counts_levels_below_and_including_the_node(chain):
    top, middle, leaf = chain

    assert top.subtree_height() == 3
    assert middle.subtree_height() == 2
    assert leaf.subtree_height() == 1
    assert Partner(code="UNSAVED").subtree_height() == 1


def test_subtree_height_follows_the_deepest_branch():
    root = RegionFactory()
    shallow = RegionFactory(parent=root)
    deep = RegionFactory(parent=root)
    deeper = RegionFactory(parent=deep)
    RegionFactory(parent=deeper)

    assert root.subtree_height() == 4
    assert shallow.subtree_height() == 1
    assert deep.subtree_height() == 3


# tree_paths_rebuild ---------------------------------------------------------------------------


def test_rebuild_on_a_sound_tree_changes_nothing(chain):
    RegionFactory(parent=RegionFactory())
    before = (paths(Partner), depths(Partner), paths(Region), depths(Region))

    assert maintenance.tree_paths_rebuild() == 0

    assert (paths(Partner), depths(Partner), paths(Region), depths(Region)) == before


def test_rebuild_repairs_paths_and_depths_corrupted_behind_the_models_back(chain):
    top, middle, leaf = chain
    root = RegionFactory()
    province = RegionFactory(parent=root)
    good = (paths(Partner), depths(Partner), paths(Region), depths(Region))
    Partner.objects.filter(pk=middle.pk).update(path="/999/", depth=7)
    Partner.objects.filter(pk=leaf.pk).update(depth=1)
    Region.objects.filter(pk=province.pk).update(path="")

    corrected = maintenance.tree_paths_rebuild()

    assert corrected == 3
    assert (paths(Partner), depths(Partner), paths(Region), depths(Region)) == good
    assert maintenance.tree_paths_rebuild() == 0


def test_rebuild_follows_parent_links_changed_without_saving_paths(chain):
    top, middle, leaf = chain
    other = DistributorFactory()
    Partner.objects.filter(pk=middle.pk).update(parent=other)

    corrected = maintenance.tree_paths_rebuild()

    assert corrected == 2  # the moved partner and the leaf below it
    assert paths(Partner)[middle.pk] == f"/{other.pk}/{middle.pk}/"
    assert paths(Partner)[leaf.pk] == f"/{other.pk}/{middle.pk}/{leaf.pk}/"
    assert depths(Partner)[leaf.pk] == 3
    assert set(Partner.objects.subtree_of(Partner.objects.get(pk=other.pk)).values_list("pk", flat=True)) == {
        other.pk,
        middle.pk,
        leaf.pk,
    }
    assert maintenance.tree_paths_rebuild() == 0


def test_rebuild_reads_and_writes_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    root = RegionFactory()
    for _ in range(30):
        RegionFactory(parent=root)
    Region.objects.update(path="", depth=9)

    with django_assert_max_num_queries(8):
        corrected = maintenance.tree_paths_rebuild()

    assert corrected == 31
