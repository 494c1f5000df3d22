from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


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
