"""People's sessions: lockout after failed sign-ins, idle timeout, MFA before the admin."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def clean_counters():
    cache.clear()  # allauth's rate limits live in the shared cache
    yield
    cache.clear()


def sign_in(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, officer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, officer.email, "wrong-password-123")
        assert not signed_in(client)
    response = sign_in(client, officer.email, PASSWORD)
    assert not signed_in(client)  # locked: the right password no longer signs in
    assert response.status_code in {200, 403, 429}
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.get(username=officer.email)
    assert attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT


def test_the_right_password_signs_in_before_any_failure(client, officer):
    sign_in(client, officer.email, PASSWORD)
    assert signed_in(client)


def test_an_idle_session_ends(client, officer, settings):
    client.force_login(officer)
    session = client.session
    session["last_seen"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT - 5
    session.save()
    response = client.get(reverse("portal:request_list"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert not signed_in(client)


def test_an_active_session_continues(client, officer):
    client.force_login(officer)
    assert client.get(reverse("portal:request_list")).status_code == 200
    assert signed_in(client)


def test_activity_does_not_extend_the_session_beyond_its_absolute_lifetime(client, officer, settings):
    """A stolen session cookie kept busy still dies SESSION_COOKIE_AGE after sign-in."""
    import time_machine
    from django.utils import timezone

    start = timezone.now()
    client.force_login(officer)
    step = settings.SESSION_IDLE_TIMEOUT // 2
    elapsed = 0
    with time_machine.travel(start, tick=False) as traveller:
        while elapsed + step < settings.SESSION_COOKIE_AGE:
            elapsed += step
            traveller.move_to(start + timezone.timedelta(seconds=elapsed))
            assert client.get(reverse("portal:request_list")).status_code == 200, elapsed
        traveller.move_to(start + timezone.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60))
        response = client.get(reverse("portal:request_list"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert not signed_in(client)


def test_the_legal_team_must_enrol_mfa_before_the_admin(client, settings):
    settings.REQUIRE_MFA = True
    staff = get_user_model().objects.create_user(email="lawyer@provider.example", password=PASSWORD, is_staff=True,
                                                 is_superuser=True)
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == reverse("mfa_index")


def test_the_admin_login_goes_through_the_portal_sign_in(client):
    response = client.get("/admin/login/")
    # secure_admin_login sends the admin to allauth's sign-in (rate limits, lockout, MFA stage).
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
