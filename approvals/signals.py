"""Keep agency officials in their agency's officials group whenever a user is saved.

Users are created and changed by the accounts services and the user admin, which know
nothing of agencies; the group is what lets a referred agency's officials read a case.
"""

from django.db.models.signals import post_save


def _sync_official_groups(sender, instance, raw=False, **kwargs):
    if raw:
        return
    from approvals.services import sync_official_groups

    sync_official_groups(instance)


def connect():
    from django.contrib.auth import get_user_model

    from approvals.services import amendments
    from vendors import amendments as registry

    # The registry asks what holds a record and announces changes to material facts.
    registry.holders_requested.connect(amendments.holders_of, dispatch_uid="approvals_amendment_holders")
    registry.material_facts_changed.connect(
        amendments.on_material_facts_changed, dispatch_uid="approvals_record_amendment"
    )

    post_save.connect(
        _sync_official_groups, sender=get_user_model(), dispatch_uid="approvals_sync_official_groups"
    )
