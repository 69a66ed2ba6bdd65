"""What the contract run (bin/contract-test) found in training: a PATCH replaces a course's tier
requirements whole, so a requirement without its tier is a 400 on that row, not a 500."""

import pytest

from tests.factories import TierRequirementFactory

pytestmark = pytest.mark.django_db


def test_a_patched_requirement_without_its_tier_is_a_400_on_the_row(api_client):
    requirement = TierRequirementFactory()
    course = requirement.course

    response = api_client.patch(
        f"/api/v1/courses/{course.pk}/", {"tier_requirements": [{"certified_people": 2}]}, format="json"
    )

    assert response.status_code == 400, response.content
    assert response.json()["errors"]["tier_requirements"] == {"0": {"tier": ["This field is required."]}}
    assert list(course.requirements.values_list("tier", "certified_people")) == [
        (requirement.tier_id, requirement.certified_people)
    ]
