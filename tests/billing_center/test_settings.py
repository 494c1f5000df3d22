"""Settings come from the environment; production settings pass `check --deploy` cleanly."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefghijkl",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "billing.example.com",
    "DATABASE_URL": "sqlite:////tmp/billing-center-deploy-check.sqlite3",
    "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    "SELLER_COUNTRY": "FR",
    "SELLER_NAME": "Éditeur SAS",
    "SELLER_VAT_NUMBER": "FR40303265045",
    "SELLER_ADDRESS": "1 rue de la Paix, 75002 Paris",
}


def manage(*args, env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
        and not k.startswith("SELLER_")
    }
    base["DJANGO_SETTINGS_MODULE"] = "billing_center.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_prints_no_warning_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_secret_key_is_required_when_debug_is_off():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_the_seller_is_required_when_debug_is_off():
    """Issue 19: no invoice in the demo vendor's name from a production that forgot its own."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in {"SELLER_NAME", "SELLER_VAT_NUMBER"}}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SELLER_NAME, SELLER_VAT_NUMBER must be set when DEBUG is off" in result.stderr
    debug = manage("check", env={"DEBUG": "1", "DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"]})
    assert debug.returncode == 0, debug.stderr  # the demo keeps its vendor


def test_debug_runs_without_a_secret_key():
    result = manage("check", env={"DEBUG": "1", "DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"]})
    assert result.returncode == 0, result.stderr


def test_manage_py_defaults_to_development_settings():
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    base["DATABASE_URL"] = PRODUCTION_ENV["DATABASE_URL"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
