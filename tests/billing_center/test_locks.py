"""One lock module (STYLE habit 15): every row lock comes from billing_center/locks.py, so the
one order (account, then the thing changed, then subscriptions by primary key) is kept in one
place. A `select_for_update()` anywhere else is a second copy of that order waiting to drift."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ["billing_center", "catalog", "subscriptions", "cart", "checkout", "corporate_portal"]


def test_nothing_but_the_lock_module_takes_row_locks():
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            if "select_for_update(" in path.read_text(encoding="utf-8"):
                found.append(str(path.relative_to(ROOT)))
    assert found == ["billing_center/locks.py"]
