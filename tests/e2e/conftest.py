import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.e2e)


@pytest.fixture
def screenshot_dir(tmp_path_factory):
    """Screenshots go to test-artifacts/ (kept by CI for a look), else to a temp folder."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "test-artifacts"
    root.mkdir(exist_ok=True)
    return root
