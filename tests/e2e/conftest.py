from pathlib import Path

import pytest
from playwright.sync_api import expect

HERE = Path(__file__).resolve().parent

# A page waits on the processor's card fields (a request) and then on ours: on two busy cores
# that can take more than Playwright's default 5 seconds.
expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(items):
    # pytest hands this hook every item of the session, not only this folder's: mark ours only.
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def screenshot_dir(tmp_path_factory):
    """Screenshots go to test-artifacts/ (kept by CI for a look), else to a temp folder."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "test-artifacts"
    root.mkdir(exist_ok=True)
    return root


@pytest.fixture(autouse=True)
def card_numbers_never_reach_our_views(request):
    """Every browser test records each request its page sends to our origin: none outside the
    processor's /sandbox-gateway/ may carry a card number (issue 17)."""
    if "page" not in request.fixturenames or "live_server" not in request.fixturenames:
        yield None
        return
    from tests.e2e.cards import RequestRecorder

    page = request.getfixturevalue("page")
    recorder = RequestRecorder(request.getfixturevalue("live_server").url)
    page.on("request", recorder)
    yield recorder
    assert not recorder.offending, recorder.offending


@pytest.fixture(autouse=True)
def site_url_is_the_live_server(request):
    """Links that leave the site and come back (the processor's return URLs, emails) name the
    site by settings.SITE_URL, as an operator sets it: here, the live server."""
    if "live_server" not in request.fixturenames:
        return
    settings = request.getfixturevalue("settings")
    settings.SITE_URL = request.getfixturevalue("live_server").url
