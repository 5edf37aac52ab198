"""``qs.restrict(user, action)`` is ``visible_to(user, qs, action)``: one filter, two spellings."""

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from guardian.models import UserObjectPermissionBase

from approvals.models import AccessRequest, Referral
from approvals.tests.factories import build_world, new_customer, submitted
from portal.permissions import RestrictedQuerySet, visible_to

pytestmark = pytest.mark.django_db


def guarded_models():
    """Every model with a direct-foreign-key guardian permission table (guardian's own generic
    table has no model behind its ``content_object``)."""
    related = {
        model._meta.get_field("content_object").related_model
        for model in apps.get_models()
        if issubclass(model, UserObjectPermissionBase)
    }
    return sorted(related - {None}, key=lambda model: model._meta.label)


def test_every_guarded_model_restricts():
    models = guarded_models()
    assert AccessRequest in models
    assert Referral in models
    assert len(models) >= 13
    unrestricted = [
        m._meta.label for m in models if not isinstance(m._default_manager.all(), RestrictedQuerySet)
    ]
    assert not unrestricted, f"Give these models objects = RestrictedQuerySet.as_manager(): {unrestricted}"


def test_related_managers_restrict_too():
    world = build_world()
    access_request = submitted(world)
    referrals = access_request.referrals.restrict(world["doc_reviewer"])
    assert [r.agency.code for r in referrals] == ["DOC"]


def _pks(queryset):
    return list(queryset.order_by("pk").values_list("pk", flat=True))


def test_restrict_and_visible_to_give_the_same_rows():
    world = build_world()
    access_request = submitted(world)
    inactive = world["viewer"]
    inactive.is_active = False
    people = {
        "officer": world["officer"],
        "other_officer": world["other_officer"],
        "doc_reviewer": world["doc_reviewer"],
        "cisa_approver": world["cisa_approver"],
        "auditor": world["auditor"],
        "inactive": inactive,
        "anonymous": AnonymousUser(),
    }
    seen = {}
    for model in guarded_models():
        for name, person in people.items():
            for action in ("view", "change"):
                restricted = _pks(model.objects.restrict(person, action))
                assert restricted == _pks(visible_to(person, model.objects.all(), action)), (
                    model,
                    name,
                    action,
                )
                seen[(model, name, action)] = restricted
    # the rows differ by person, so the equality above compares something
    assert seen[(AccessRequest, "officer", "view")] == [access_request.pk]
    assert seen[(AccessRequest, "officer", "change")] == [access_request.pk]
    assert seen[(AccessRequest, "other_officer", "view")] == []
    assert seen[(AccessRequest, "doc_reviewer", "view")] == [access_request.pk]
    assert seen[(AccessRequest, "cisa_approver", "view")] == []
    assert seen[(AccessRequest, "auditor", "view")] == [access_request.pk]
    assert seen[(AccessRequest, "auditor", "change")] == []
    assert seen[(AccessRequest, "inactive", "view")] == []
    assert seen[(AccessRequest, "anonymous", "view")] == []


def test_restrict_keeps_the_filters_before_it():
    world = build_world()
    mine = submitted(world)
    submitted(world, partner_customer=new_customer(world))
    restricted = AccessRequest.objects.filter(pk=mine.pk).restrict(world["officer"])
    assert _pks(restricted) == [mine.pk]
    assert isinstance(restricted, RestrictedQuerySet)
