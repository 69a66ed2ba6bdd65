"""Browser tests: Playwright drives Debian's Chromium (bin/ensure-chromium installs it) against
pytest-django's live server. Each test saves full-page screenshots of its key moments under
test-results/screenshots/, and one more named `-failed` when it fails."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from prm.roles import sync_role_permissions

CHROMIUM = "/usr/bin/chromium"
# Long enough for a slow CI machine, short enough that a broken page fails in seconds, not minutes.
ACTION_TIMEOUT_MS = 10_000
DESKTOP = {"width": 1366, "height": 900}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests run last, after pytest-django's own ordering. Playwright's sync API keeps an
    event loop running in the main thread from the first browser test to the end of the session,
    and while one runs Django refuses ORM calls: a database test after a browser test would fail."""
    here = Path(__file__).parent
    items.sort(key=lambda item: here in item.path.parents)


@pytest.fixture(scope="package", autouse=True)
def _django_orm_beside_playwright():
    """Let the tests' own ORM calls (factories, the role sync, the database flush after each test)
    run beside Playwright's event loop. The live server answers in threads with connections of
    their own, so nothing is shared across threads. Package-scoped: set before pytest-django's
    per-test database fixtures and removed after the last browser test, so that no other test, nor
    a process one starts, inherits it (`check --deploy` rightly refuses it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run bin/ensure-chromium (make test does)", pytrace=False)
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            # Without these Chromium keeps trying to reach the internet, which is refused here.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    """Pages open by path: `page.goto("/partners/")` goes to the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A test wanting another size or language says so with @pytest.mark.browser_context_args(...).
    return {**browser_context_args, "locale": "en-US", "viewport": DESKTOP}


@pytest.fixture
def new_context(new_context):
    """Every browser context, the `page` fixture's and any a test opens, fails fast."""

    def make(**kwargs):
        context = new_context(**kwargs)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
        return context

    return make


@pytest.fixture(autouse=True)
def roles(transactional_db):
    """The role groups. A transactional test empties every table when it ends, so each browser
    test creates the groups it needs rather than trusting what an earlier test left."""
    sync_role_permissions()


@pytest.fixture
def login(live_server):
    """Sign `user` in to a browser context without the form, for tests about something else."""

    def sign_in(context, user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])

    return sign_in


@pytest.fixture
def screenshot(request, page):
    """`screenshot(step="list")` saves test-results/screenshots/<test name>-list.png, a full-page
    shot of `page`; `screenshot(other_page, step=...)` of another page. When the test fails, every
    page still open is saved as <test name>-failed[N].png."""
    folder = Path(request.config.getoption("--output")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    name = request.node.originalname

    def take(target=None, step=""):
        path = folder / (f"{name}-{step}.png" if step else f"{name}.png")
        (target or page).screenshot(path=str(path), full_page=True)
        return path

    yield take
    report = getattr(request.node, "rep_call", None)  # set by pytest-playwright
    if report is not None and report.failed:
        open_pages = [each for context in page.context.browser.contexts for each in context.pages]
        for index, open_page in enumerate(open_pages):
            try:
                open_page.screenshot(path=str(folder / f"{name}-failed{index or ''}.png"), full_page=True)
            except Exception as error:  # the test's own failure is the one to report
                print(f"no failure screenshot of {open_page.url}: {error}")
