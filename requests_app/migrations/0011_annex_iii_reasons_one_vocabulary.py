"""One Annex III reason vocabulary: rewrite the codes the legal team's forms used before
(``rules.vocab.ANNEX_III_LEGACY_REASONS``) into the engine's codes, in stored Annex III rows."""

from django.db import migrations

LEGACY = {
    "not_issued_or_validated_per_art_4": "not_issued_per_art_4",
    "offence_not_within_art_5_4": "offence_outside_art_5_4",
    "immunities_or_privileges": "immunities_privileges",
    "conflicting_obligations": "third_country_conflict",
}


def forwards(apps, schema_editor):
    AnnexIII = apps.get_model("requests_app", "AnnexIII")
    for form in AnnexIII.objects.all().only("pk", "reasons").iterator():
        changed = False
        for item in form.reasons or []:
            codes = [LEGACY.get(code, code) for code in item.get("reasons", [])]
            if codes != item.get("reasons", []):
                item["reasons"], changed = codes, True
        if changed:
            AnnexIII.objects.filter(pk=form.pk).update(reasons=form.reasons)


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0010_legalrequest_delegates")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
