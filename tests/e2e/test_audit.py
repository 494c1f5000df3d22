"""The page audit itself: it must report what it is there to catch, or every walk proves nothing."""

import pytest
from playwright.sync_api import Browser

from tests.e2e.audit import PageAudit

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_audit_reports_a_nameless_button_and_a_sideways_scroll(
    browser: Browser, live_server, screenshot_dir
):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(f"{live_server.url}/login/")
    audit = PageAudit(page, screenshot_dir, "audit-self-test")
    audit.check("login")
    assert audit.problems == []

    # Break the page on purpose: a button with no name, a box wider than the phone.
    page.evaluate(
        """() => {
          const main = document.querySelector('main');
          main.append(document.createElement('button'));
          const wide = document.createElement('div');
          wide.style.width = '900px';
          wide.textContent = 'wide';
          main.append(wide);
        }"""
    )
    audit.check("login-broken")
    report = "\n".join(audit.problems)
    assert "scrolls sideways" in report
    assert "spills out of the page's column" in report
    assert "button-name" in report
    assert "[critical]" in report
    with pytest.raises(AssertionError, match="3 page problem"):
        audit.assert_clean()
    page.close()
