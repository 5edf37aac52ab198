"""The registry's part of the demo world: Aurora Labs and Basalt AI, their models, partner
customers and evidence. Safe to run twice: anything already there is left alone."""

from django.core.files.uploadedfile import SimpleUploadedFile

from portal.accounts.models import User
from portal.accounts.services import system_user
from vendors import services
from vendors.choices import Sector
from vendors.models import EvidenceDocument, FrontierModel, PartnerCustomer, Vendor, normalise_name

REASON = "Demo world"
Phase = FrontierModel.ReleasePhase

VENDORS = {
    "Aurora Labs": {
        "legal_name": "Aurora Labs, Inc.",
        "registration_ids": "EIN 84-2917365 · UEI AURL7K2M9Q41",
        "primary_contact_name": "Alex Rivera",
        "primary_contact_email": "compliance@aurora.example",
        "primary_contact_phone": "+1 415 555 0142",
        "admin": "compliance@aurora.example",
        "models": [
            {
                "name": "Aurora Atlas",
                "version": "2.0",
                "training_compute_flop": 3.2e26,
                "description": "General-purpose multimodal model for enterprise agents and code.",
                "capability_summary": "State-of-the-art code generation, long-context reasoning, tool use.",
                "cyber_evaluation_summary": "Third-party red team found meaningful uplift for vulnerability "
                "discovery in memory-unsafe code; mitigations in place (refusal training, usage monitoring).",
                "phase": Phase.LIMITED_PREVIEW,
                "cap": 10,
            },
            {
                "name": "Aurora Atlas",
                "version": "3.0",
                "training_compute_flop": 8.5e26,
                "description": "Next generation of Atlas with autonomous multi-step agents.",
                "capability_summary": "Autonomous software engineering over multi-day horizons.",
                "cyber_evaluation_summary": "Evaluation in progress with the agencies.",
                "phase": Phase.IN_REVIEW,
            },
            {
                "name": "Aurora Mini",
                "version": "1.5",
                "training_compute_flop": 4e24,
                "description": "Small, fast model for on-device summarisation.",
                "capability_summary": "Summarisation and classification.",
                "cyber_evaluation_summary": "No meaningful cyber uplift found.",
                "phase": Phase.REGISTERED,
            },
        ],
        "customers": [
            ("Great Lakes Grid Operations LLC", "US", Sector.ENERGY),
            ("Northwind Water Authority", "US", Sector.WATER),
            ("Meridian Community Health System", "US", Sector.HEALTHCARE),
            ("Harbor Federal Credit Union", "US", Sector.FINANCIAL_SERVICES),
            ("Cascade Rail Logistics Inc.", "US", Sector.TRANSPORTATION),
            ("Sentinel Defense Systems Corp.", "US", Sector.DEFENSE_INDUSTRIAL_BASE),
            ("Brightline Software Inc.", "US", Sector.OTHER),
            ("Nordlicht Energie GmbH", "DE", Sector.ENERGY),
            ("Maple Leaf Telecom Ltd.", "CA", Sector.COMMUNICATIONS),
            ("Sakura Robotics K.K.", "JP", Sector.CRITICAL_MANUFACTURING),
            ("Thames Analytics plc", "GB", Sector.INFORMATION_TECHNOLOGY),
            ("Andes Agro S.A.", "CL", Sector.FOOD_AND_AGRICULTURE),
        ],
        "evidence": [
            ("model", "Aurora Atlas", "2.0", EvidenceDocument.Kind.MODEL_CARD, "Atlas 2.0 model card", "pdf"),
            (
                "model",
                "Aurora Atlas",
                "2.0",
                EvidenceDocument.Kind.RED_TEAM_REPORT,
                "Atlas 2.0 red-team summary",
                "txt",
            ),
            (
                "model",
                "Aurora Atlas",
                "3.0",
                EvidenceDocument.Kind.EVALUATION_REPORT,
                "Atlas 3.0 cyber evaluation",
                "pdf",
            ),
            (
                "customer",
                "Great Lakes Grid Operations LLC",
                "US",
                EvidenceDocument.Kind.CUSTOMER_ATTESTATION,
                "Great Lakes Grid identity attestation",
                "txt",
            ),
        ],
    },
    "Basalt AI": {
        "legal_name": "Basalt AI Corp.",
        "registration_ids": "EIN 27-5518302",
        "primary_contact_name": "Jordan Okafor",
        "primary_contact_email": "compliance@basalt.example",
        "primary_contact_phone": "+1 512 555 0199",
        "admin": "compliance@basalt.example",
        "models": [
            {
                "name": "Basalt Granite",
                "version": "1.0",
                "training_compute_flop": 1.5e26,
                "description": "Reasoning model for security operations centres.",
                "capability_summary": "Log analysis, incident triage, help with malware reverse engineering.",
                "cyber_evaluation_summary": "Moderate uplift for exploit development; gated behind verified "
                "enterprise accounts.",
                "phase": Phase.LIMITED_PREVIEW,
                "cap": 5,
            },
            {
                "name": "Basalt Pebble",
                "version": "0.9",
                "training_compute_flop": 1.2e26,
                "description": "Compact assistant model, trained long on a small architecture.",
                "capability_summary": "Drafting and question answering.",
                "cyber_evaluation_summary": "No meaningful cyber uplift found.",
                "phase": Phase.GENERAL_AVAILABILITY,
            },
        ],
        "customers": [
            ("Pioneer Chemical Co.", "US", Sector.CHEMICAL),
            ("Lakeside County Emergency Services", "US", Sector.EMERGENCY_SERVICES),
            ("Atlas Payments Inc.", "US", Sector.FINANCIAL_SERVICES),
            ("Kiwi Health Ltd.", "NZ", Sector.HEALTHCARE),
            ("Orion Research Institute", "US", Sector.OTHER),
        ],
        "evidence": [
            (
                "model",
                "Basalt Granite",
                "1.0",
                EvidenceDocument.Kind.MODEL_CARD,
                "Granite 1.0 model card",
                "pdf",
            ),
            (
                "model",
                "Basalt Pebble",
                "0.9",
                EvidenceDocument.Kind.MODEL_CARD,
                "Pebble 0.9 model card",
                "txt",
            ),
        ],
    },
}

INTENDED_USES = {
    Sector.ENERGY: "Triage of intrusion alerts and OT network anomaly review in the control-centre SOC.",
    Sector.WATER: "Reviewing SCADA configuration changes for security weaknesses.",
    Sector.HEALTHCARE: "Summarising threat intelligence for the hospital security team.",
    Sector.FINANCIAL_SERVICES: "Fraud-pattern analysis and secure code review of payment services.",
    Sector.TRANSPORTATION: "Security review of dispatch and signalling software.",
    Sector.DEFENSE_INDUSTRIAL_BASE: "Secure code review of internal engineering tools (unclassified only).",
    Sector.COMMUNICATIONS: "Network security operations: alert triage and incident write-ups.",
    Sector.CRITICAL_MANUFACTURING: "Vulnerability management for factory automation software.",
    Sector.INFORMATION_TECHNOLOGY: "Penetration-test report drafting for clients, human in the loop.",
    Sector.FOOD_AND_AGRICULTURE: "Supply-chain risk analysis of agricultural IoT suppliers.",
    Sector.CHEMICAL: "Process-safety system security review.",
    Sector.EMERGENCY_SERVICES: "Hardening of the 911 dispatch network.",
    Sector.OTHER: "Internal developer productivity tools.",
}


def demo_pdf(title, lines):
    """A small, valid one-page PDF (hand-written objects and cross-reference table)."""

    def esc(text):
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream_lines = ["BT", "/F1 16 Tf", "72 740 Td", f"({esc(title)}) Tj", "/F1 11 Tf"]
    for line in lines:
        stream_lines += ["0 -20 Td", f"({esc(line)}) Tj"]
    stream_lines.append("ET")
    stream = "\n".join(stream_lines).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _document(title, extension):
    lines = [
        "Demo document generated by seed_demo.",
        "Prepared for the Frontier Access Portal review.",
        "Findings: see the summary on the record.",
    ]
    slug = normalise_name(title).replace(" ", "-")
    if extension == "pdf":
        return SimpleUploadedFile(f"{slug}.pdf", demo_pdf(title, lines), content_type="application/pdf")
    text = title + "\n\n" + "\n".join(lines) + "\n"
    return SimpleUploadedFile(f"{slug}.txt", text.encode(), content_type="text/plain")


def seed_vendors(organisations):
    """Create the demo vendors' records. ``organisations`` maps names to Organisation rows."""
    system = system_user()
    vendors = {}
    for org_name, spec in VENDORS.items():
        organisation = organisations[org_name]
        vendor = Vendor.objects.filter(organisation=organisation).first()
        if vendor is None:
            vendor = services.create_vendor(
                organisation=organisation,
                legal_name=spec["legal_name"],
                registration_ids=spec["registration_ids"],
                primary_contact_name=spec["primary_contact_name"],
                primary_contact_email=spec["primary_contact_email"],
                primary_contact_phone=spec["primary_contact_phone"],
                actor=system,
                reason=REASON,
            )
        for member in User.objects.filter(organisation=organisation):
            services.sync_member_groups(member, vendor=vendor)
        actor = User.objects.get(email=spec["admin"])
        _seed_models(vendor, spec["models"], actor)
        _seed_customers(vendor, spec["customers"], actor)
        _seed_evidence(vendor, spec["evidence"], actor)
        vendors[org_name] = vendor
    _seed_application()
    return vendors


def _seed_application():
    """A company's application waiting for the portal administrator (issue 13's onboarding)."""
    from vendors.onboarding.models import VendorApplication
    from vendors.onboarding.services import submit_application

    if VendorApplication.objects.exists():
        return
    submit_application(
        legal_name="Cobalt Reasoning, Inc.",
        country="US",
        identifiers="UEI J7M9KQ2LX4N1",
        address="1 Market Street, San Francisco, CA 94105",
        admin_name="Dana Cobalt",
        admin_email="dana@cobalt.example",
        attestation=True,
    )


def _seed_models(vendor, specs, actor):
    """Register each model. Its ``phase`` (and ``cap``) are where the review process's demo takes it,
    through the pre-release review services (``approvals.demo.releases``): never set here."""
    for spec in specs:
        frontier_model = FrontierModel.objects.filter(
            vendor=vendor, name=spec["name"], version=spec["version"]
        ).first()
        if frontier_model is not None:
            continue
        frontier_model = services.register_frontier_model(
            vendor=vendor,
            name=spec["name"],
            version=spec["version"],
            training_compute_flop=spec["training_compute_flop"],
            description=spec["description"],
            capability_summary=spec["capability_summary"],
            cyber_evaluation_summary=spec["cyber_evaluation_summary"],
            actor=actor,
            reason=REASON,
        )


def _seed_customers(vendor, specs, actor):
    existing = set(PartnerCustomer.objects.filter(vendor=vendor).values_list("normalised_name", "country"))
    for number, (legal_name, country, sector) in enumerate(specs, start=1):
        if (normalise_name(legal_name), country) in existing:
            continue
        domain = normalise_name(legal_name).split()[0] + ".example"
        services.register_partner_customer(
            vendor=vendor,
            legal_name=legal_name,
            country=country,
            sector=sector,
            registration_id=f"{country}-REG-{number:04d}",
            intended_use=INTENDED_USES[sector],
            security_contact_name="Security Operations Lead",
            security_contact_email=f"security@{domain}",
            attestation=number % 4 != 0,
            actor=actor,
            reason=REASON,
        )


def _seed_evidence(vendor, specs, actor):
    for target_kind, first, second, kind, title, extension in specs:
        if target_kind == "model":
            target = FrontierModel.objects.get(vendor=vendor, name=first, version=second)
            kwargs = {"frontier_model": target}
        else:
            target = PartnerCustomer.objects.get(
                vendor=vendor, normalised_name=normalise_name(first), country=second
            )
            kwargs = {"partner_customer": target}
        if target.evidence_documents.filter(title=title).exists():
            continue
        services.attach_evidence(
            kind=kind,
            title=title,
            uploaded_file=_document(title, extension),
            actor=actor,
            reason=REASON,
            **kwargs,
        )
