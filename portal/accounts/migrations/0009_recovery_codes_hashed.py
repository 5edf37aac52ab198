"""Recovery codes are kept as keyed digests, not in clear (issue 13): the codes made before this
migration are replaced by their digests, so that they keep working and a database reader cannot
use them. See ``portal.accounts.mfa.recovery_code_digest``."""

import re

from django.db import migrations
from django.utils.crypto import salted_hmac

SALT = "portal.accounts.mfa.recovery-code"  # as mfa.RECOVERY_CODE_SALT
CLEAR = re.compile(r"^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$")


def hash_clear_codes(apps, schema_editor):
    StaticToken = apps.get_model("otp_static", "StaticToken")
    for token in StaticToken.objects.all().iterator():
        if CLEAR.match(token.token):
            token.token = salted_hmac(SALT, token.token, algorithm="sha256").hexdigest()[:16]
            token.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_merge_20261128_2141"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(hash_clear_codes, migrations.RunPython.noop)]
