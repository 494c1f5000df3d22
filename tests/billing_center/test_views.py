import pytest
from django.core import mail
from django.urls import reverse

from billing_center.models import AuditAction
from tests.factories import AuditEventFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ACTIVITY = reverse("activity")


class TestHome:
    def test_anonymous_goes_to_login(self, client):
        response = client.get("/")
        assert response.status_code == 302
        assert response.url == reverse("login")

    def test_billing_contact_goes_to_dashboard(self, contact_client):
        response = contact_client.get("/")
        assert response.url == reverse("subscriptions:dashboard")

    def test_corporate_contact_goes_to_the_corporate_portal(self, contact_client, account):
        account.portal = "corporate"
        account.save()
        assert contact_client.get("/").url == reverse("corporate:subscriptions")

    def test_staff_goes_to_admin(self, client, admin_user):
        client.force_login(admin_user)
        assert client.get("/").url == reverse("admin:index")


class TestActivity:
    def test_lists_the_accounts_events(self, contact_client, account, billing_contact, outsider):
        AuditEventFactory(
            account=account,
            actor=billing_contact,
            action=AuditAction.CHANGED,
            object_repr="Acme · GoTo Meeting Business",
            before={"seat_count": 10},
            after={"seat_count": 12},
        )
        AuditEventFactory(account=outsider.membership.account, object_repr="Someone else's")
        response = contact_client.get(ACTIVITY)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Acme · GoTo Meeting Business" in html
        assert "Subscription · changed" in html
        assert "10 → 12" in html
        assert billing_contact.email in html
        assert "Someone else" not in html

    def test_empty(self, contact_client):
        assert (
            "Nothing has changed on your account yet."
            in contact_client.get(ACTIVITY).content.decode()
        )

    def test_member_gets_403(self, client, member):
        client.force_login(member)
        assert client.get(ACTIVITY).status_code == 403

    def test_anonymous_goes_to_login(self, client):
        assert client.get(ACTIVITY).url.startswith(reverse("login"))

    def test_post_is_405(self, contact_client):
        assert contact_client.post(ACTIVITY).status_code == 405

    def test_outsider_sees_only_its_own_account(self, client, outsider, account):
        AuditEventFactory(account=account, object_repr="Private change")
        client.force_login(outsider)
        assert "Private change" not in client.get(ACTIVITY).content.decode()

    def test_a_bad_page_number_shows_the_last_page(self, contact_client, account):
        AuditEventFactory(account=account, object_repr="Only event")
        response = contact_client.get(ACTIVITY, {"page": "999999999999999999999"})
        assert response.status_code == 200
        assert "Only event" in response.content.decode()
        assert contact_client.get(ACTIVITY, {"page": "abc"}).status_code == 200


class TestLanguage:
    def test_the_choice_sticks_for_the_user(self, client, billing_contact):
        client.force_login(billing_contact)
        response = client.post(reverse("set_language"), {"language": "it", "next": "/billing/"})
        assert response.status_code == 302
        assert response.url == "/billing/"
        billing_contact.refresh_from_db()
        assert billing_contact.language == "it"
        # A new session on another device: still Italian.
        other = client.__class__()
        other.force_login(billing_contact)
        assert "Abbonamenti" in other.get("/billing/").content.decode()

    def test_the_account_language_is_the_default(self, client, account, billing_contact):
        account.language = "es"
        account.save()
        client.force_login(billing_contact)
        assert "Suscripciones" in client.get("/billing/").content.decode()

    def test_an_unknown_language_changes_nothing(self, client, billing_contact):
        client.force_login(billing_contact)
        response = client.post(reverse("set_language"), {"language": "xx"}, follow=True)
        billing_contact.refresh_from_db()
        assert billing_contact.language == ""
        assert "That language is not available." in response.content.decode()

    def test_an_unsafe_next_is_not_followed(self, client, billing_contact):
        client.force_login(billing_contact)
        response = client.post(
            reverse("set_language"), {"language": "fr", "next": "https://evil.example/"}
        )
        assert "evil.example" not in response.url

    def test_anonymous_visitors_get_a_cookie(self, client):
        client.post(reverse("set_language"), {"language": "fr", "next": "/login/"})
        assert "Connexion" in client.get(reverse("login")).content.decode()

    def test_get_is_405(self, client):
        assert client.get(reverse("set_language")).status_code == 405


class TestSignIn:
    def test_login_page(self, client):
        response = client.get(reverse("login"))
        assert response.status_code == 200
        assert 'name="username"' in response.content.decode()

    def test_billing_contact_logs_in_with_email_in_any_case(self, client, billing_contact):
        response = client.post(
            reverse("login"),
            {"username": billing_contact.email.upper(), "password": "correct-horse-battery"},
        )
        assert response.status_code == 302
        assert client.get("/billing/").status_code == 200

    def test_wrong_password_is_a_clear_error(self, client, billing_contact):
        response = client.post(
            reverse("login"), {"username": billing_contact.email, "password": "nope"}
        )
        assert response.status_code == 200
        assert "Please enter a correct email address and password." in response.content.decode()

    def test_too_many_wrong_passwords_lock_the_login(self, client, billing_contact):
        for _ in range(5):
            client.post(reverse("login"), {"username": billing_contact.email, "password": "nope"})
        response = client.post(
            reverse("login"),
            {"username": billing_contact.email, "password": "correct-horse-battery"},
        )
        assert response.status_code == 429
        assert "Too many attempts" in response.content.decode()
        assert client.get("/billing/").status_code == 302  # still anonymous

    def test_logout_is_post_only(self, contact_client):
        assert contact_client.get(reverse("logout")).status_code == 405
        assert contact_client.post(reverse("logout")).status_code == 302
        assert contact_client.get("/billing/").status_code == 302

    def test_password_reset_sends_a_link_that_works(self, client):
        user = UserFactory(email="reset-me@example.test")
        MembershipFactory(user=user, role="billing_contact")
        response = client.post(reverse("password_reset"), {"email": "reset-me@example.test"})
        assert response.url == reverse("password_reset_done")
        assert len(mail.outbox) == 1
        link = next(line for line in mail.outbox[0].body.splitlines() if "/password-reset/" in line)
        path = link.split("://", 1)[1].split("/", 1)[1]
        response = client.get("/" + path, follow=True)
        assert response.status_code == 200
        form_url = response.redirect_chain[-1][0]
        response = client.post(
            form_url, {"new_password1": "a-new-Pass-2026", "new_password2": "a-new-Pass-2026"}
        )
        assert response.url == reverse("password_reset_complete")
        user.refresh_from_db()
        assert user.check_password("a-new-Pass-2026")

    def test_password_reset_for_an_unknown_email_says_the_same(self, client):
        response = client.post(reverse("password_reset"), {"email": "nobody@example.test"})
        assert response.url == reverse("password_reset_done")
        assert mail.outbox == []
