"""factory_boy factories for accounts; other apps build on these."""

import factory

from portal.accounts.models import Organisation, Role, User

PASSWORD = "correct horse battery"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.VENDOR


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.VENDOR_OFFICER
    is_staff = factory.LazyAttribute(
        lambda o: o.role not in {"vendor_admin", "vendor_officer", "vendor_viewer"}
    )

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


def vendor_user(role=Role.VENDOR_OFFICER, organisation=None, **kwargs):
    organisation = organisation or OrganisationFactory(kind=Organisation.Kind.VENDOR)
    return UserFactory(organisation=organisation, role=role, **kwargs)


def agency_user(role=Role.AGENCY_REVIEWER, organisation=None, **kwargs):
    organisation = organisation or OrganisationFactory(kind=Organisation.Kind.AGENCY)
    return UserFactory(organisation=organisation, role=role, **kwargs)


def auditor(**kwargs):
    return UserFactory(
        organisation=OrganisationFactory(kind=Organisation.Kind.OVERSIGHT), role=Role.AUDITOR, **kwargs
    )


def portal_admin(**kwargs):
    return UserFactory(
        organisation=OrganisationFactory(kind=Organisation.Kind.OPERATOR), role=Role.PORTAL_ADMIN, **kwargs
    )
