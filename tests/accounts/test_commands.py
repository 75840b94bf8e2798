"""The management commands of the contract (DESIGN.md §5): create_authority, create_officer,
issue_api_token."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiToken, ApprovalStatus, Authority, User
from accounts.services import hash_token

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue().strip()


def test_authority_officer_and_token_from_the_command_line():
    run("create_authority", "--name", "Policía Nacional", "--country", "es", "--type", "other_competent",
        "--domain", "policia.es", "--phone", "+34913221000")
    authority = Authority.objects.get(name="Policía Nacional")
    assert (authority.country, authority.email_domains, authority.is_verified) == ("ES", ["policia.es"], True)

    run("create_officer", "--authority", "Policía Nacional", "--email", "Agente@Policia.es")
    officer = User.objects.get(email="agente@policia.es")
    assert officer.authority == authority and officer.approval_status == ApprovalStatus.APPROVED
    assert officer.emailaddress_set.get().verified

    raw = run("issue_api_token", "--email", "agente@policia.es", "--days", "30")
    token = ApiToken.objects.get(user=officer)
    assert raw.startswith("lrp_") and token.key_hash == hash_token(raw) and raw not in token.key_hash


def test_bad_input_is_refused_and_stores_nothing(make_authority):
    with pytest.raises(CommandError):
        run("create_authority", "--name", "X", "--country", "ES", "--type", "other_competent", "--phone", "+34")
    authority = make_authority(domains=["policia.es"])
    with pytest.raises(CommandError, match="not on a verified domain"):
        run("create_officer", "--authority", str(authority.pk), "--email", "someone@gmail.com")
    with pytest.raises(CommandError):
        run("issue_api_token", "--email", "nobody@policia.es")
    assert not Authority.objects.filter(name="X").exists()
    assert not User.objects.filter(email="someone@gmail.com").exists() and not ApiToken.objects.exists()
