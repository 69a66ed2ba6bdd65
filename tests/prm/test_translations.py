"""Every user-visible string ships in Simplified Chinese, and users get the language they chose."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

from tests.factories import PartnerFactory, StaffFactory

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_message_in_the_code_and_templates_is_translated(tmp_path):
    """Extract the messages afresh, in a copy of the project so the real catalogue is untouched,
    and require a translation for each: a new string without its Chinese fails here, not in
    front of a user."""
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".venv", ".run", ".git", "staticfiles", "__pycache__", "test-results", "*.mo"),
    )
    env = {**os.environ, "PRM_DATA_DIR": str(tmp_path / "data")}
    env.pop("PRM_LOCALE_DIR", None)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    catalogue = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not missing, f"untranslated: {missing}"
    assert not fuzzy, f"fuzzy (changed in English, translation not checked): {fuzzy}"
    assert len(catalogue) > 200


def test_the_committed_catalogue_is_complete_and_well_formed():
    catalogue = polib.pofile(str(CATALOGUE))
    assert catalogue.percent_translated() == 100
    assert catalogue.metadata["Plural-Forms"].startswith("nplurals=1")


@pytest.mark.django_db
def test_a_user_who_prefers_chinese_gets_chinese_pages(client):
    user = StaffFactory(preferred_language="zh-hans")
    PartnerFactory(name="Huaxin Tech")
    client.force_login(user)
    page = client.get("/partners/").content.decode()
    assert "合作伙伴" in page  # "Partners"
    assert "合作中" in page  # the status label "Active"
    assert "导出 CSV" in page or "导出CSV" in page


@pytest.mark.django_db
def test_the_browser_language_is_used_when_the_user_has_no_preference(client):
    client.force_login(StaffFactory(preferred_language=""))
    page = client.get("/partners/regions/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "区域" in page
    english = client.get("/partners/regions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Regions" in english and "区域" not in english


@pytest.mark.django_db
def test_the_language_switcher_changes_the_language(client):
    client.force_login(StaffFactory(preferred_language=""))
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/partners/tiers/"})
    assert response.status_code == 302
    assert "等级" in client.get("/partners/tiers/").content.decode()


def test_both_languages_are_offered():
    assert [code for code, _name in settings.LANGUAGES] == ["en", "zh-hans"]
