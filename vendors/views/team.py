"""The team and the vendor's profile: members, invitations, roles, notices."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.accounts.mfa_views import require_recent_second_factor
from portal.accounts.models import Role
from portal.audit.history import history_rows
from portal.errors import PortalError
from portal.permissions import has_object_permission
from vendors import forms, selectors, services
from vendors.views._common import _apply_error, _team_admin_or_404, vendor_member_required


@vendor_member_required
def team(request):
    return render(
        request,
        "vendors/team.html",
        {
            "vendor": request.vendor,
            "members": selectors.team_of(request.vendor),
            "can_manage": request.user.role == Role.VENDOR_ADMIN,
        },
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def team_invite(request):
    _team_admin_or_404(request)
    form = forms.InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invite_member(vendor=request.vendor, actor=request.user, **form.cleaned_data)
        except PortalError as error:
            _apply_error(form, error)
        else:
            # The same words whether or not the address already has an account (see invite_member).
            email = form.cleaned_data["email"]
            messages.success(request, f"An e-mail about this invitation is on its way to {email}.")
            return redirect("vendors:team")
    return render(request, "vendors/team_invite.html", {"form": form})


def _member(request, pk):
    member = selectors.team_of(request.vendor).filter(pk=pk).first()
    if member is None:
        raise Http404("No such member.")
    return member


@vendor_member_required
@require_http_methods(["GET", "POST"])
def team_member(request, pk):
    """One member: change their role or deactivate them (compliance admins only)."""
    _team_admin_or_404(request)
    member = _member(request, pk)
    if (again := require_recent_second_factor(request)) is not None:
        return again  # changing a role asks for the second factor again (issue 13)
    role_form = forms.RoleForm(
        request.POST if request.POST.get("action") == "role" else None,
        initial={"role": member.role},
        instance=member,
    )
    deactivate_form = forms.DeactivateForm(
        request.POST if request.POST.get("action") == "deactivate" else None,
        prefix="deactivate",
        instance=member,
    )
    if request.method == "POST":
        form = role_form if request.POST.get("action") == "role" else deactivate_form
        if form.is_valid():
            try:
                if form is role_form:
                    services.change_member_role(
                        vendor=request.vendor,
                        member=member,
                        role=form.cleaned_data["role"],
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                        expected_version=form.cleaned_data["record_version"],
                    )
                    done = f"{member.email} is now {Role(form.cleaned_data['role']).label.lower()}."
                else:
                    services.deactivate_member(
                        vendor=request.vendor,
                        member=member,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                        expected_version=form.cleaned_data["record_version"],
                    )
                    done = f"{member.email} is deactivated and can no longer sign in."
            except PortalError as error:
                _apply_error(form, error, member)
            else:
                messages.success(request, done)
                return redirect("vendors:team")
    return render(
        request,
        "vendors/team_member.html",
        {
            "member": member,
            "role_form": role_form,
            "deactivate_form": deactivate_form,
            "rows": history_rows(member),
        },
    )


@vendor_member_required
def profile(request):
    return render(
        request,
        "vendors/profile.html",
        {
            "vendor": request.vendor,
            "rows": history_rows(request.vendor),
            "can_edit": has_object_permission(request.user, request.vendor, "change"),
            "pending_name_change": request.vendor.name_changes.filter(status="pending").first(),
            "can_manage": request.user.role == Role.VENDOR_ADMIN
            and has_object_permission(request.user, request.vendor, "manage_team"),
        },
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def profile_notices(request):
    """The compliance admins' switch for the notices to partner customers' security contacts."""
    _team_admin_or_404(request)
    current = "yes" if request.vendor.notify_customer_security_contacts else "no"
    form = forms.SecurityContactNoticesForm(request.POST or None, initial={"enabled": current})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_security_contact_notices(
                vendor=request.vendor,
                actor=request.user,
                enabled=form.cleaned_data["enabled"],
                reason=form.cleaned_data["reason"],
            )
        except PortalError as error:
            _apply_error(form, error)
        else:
            messages.success(request, "The setting is saved.")
            return redirect("vendors:profile")
    return render(request, "vendors/profile_notices.html", {"form": form, "vendor": request.vendor})


@vendor_member_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    _team_admin_or_404(request)
    form = forms.VendorProfileForm(request.POST or None, instance=request.vendor)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason", "")
        version = data.pop("record_version", None)
        try:
            services.update_vendor_profile(
                vendor=request.vendor, actor=request.user, reason=reason, expected_version=version, **data
            )
        except PortalError as error:
            _apply_error(form, error, request.vendor)
        else:
            if request.vendor.name_changes.filter(status="pending", requested_by=request.user).exists():
                messages.success(
                    request, "Saved. The new legal name takes effect when a portal administrator approves it."
                )
            else:
                messages.success(request, "The vendor profile is updated.")
            return redirect("vendors:profile")
    return render(request, "vendors/profile_form.html", {"form": form, "vendor": request.vendor})
