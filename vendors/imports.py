"""Partner customers in and out of CSV: the template, reading an upload, writing an export.

Reading turns a file into rows without touching the database; ``services.check_customer_rows``
then checks them against the vendor's existing customers with one query.
"""

import csv
import io

import pycountry

from portal.audit.export import safe_cell as neutralise
from portal.errors import PortalError
from vendors.choices import COUNTRY_NAMES, Sector

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000

COLUMNS = [
    ("legal_name", "Legal name of the customer, e.g. Example Grid Operations LLC"),
    ("country", "ISO 3166-1 country: two-letter code (US), three-letter code (USA) or name"),
    ("sector", "One of: " + ", ".join(Sector.values)),
    ("registration_id", "Company registration id (optional)"),
    ("intended_use", "What the customer will use the model for"),
    ("security_contact_name", "Name of the customer's security contact"),
    ("security_contact_email", "E-mail address of the customer's security contact"),
    ("attestation", "yes if you attest to the customer's identity and intended use, else no"),
]
COLUMN_NAMES = [name for name, _ in COLUMNS]
REQUIRED_COLUMNS = [c for c in COLUMN_NAMES if c not in {"registration_id", "attestation"}]

_SECTOR_BY_TEXT = {**{s.value: s.value for s in Sector}, **{s.label.casefold(): s.value for s in Sector}}
_YES = {"yes", "y", "true", "1", "x"}
_NO = {"no", "n", "false", "0", ""}


def template_csv():
    """The downloadable template: the header and one example row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMN_NAMES)
    writer.writerow(
        [
            "Example Grid Operations LLC",
            "US",
            "energy",
            "EIN 12-3456789",
            "Triage of intrusion alerts in the control-centre SOC",
            "Dana Example",
            "security@grid.example",
            "yes",
        ]
    )
    return out.getvalue()


def export_csv(customers):
    """The customers as CSV, in the import's columns, every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMN_NAMES)
    for c in customers:
        writer.writerow(
            [
                neutralise(v)
                for v in (
                    c.legal_name,
                    c.country,
                    c.sector,
                    c.registration_id,
                    c.intended_use,
                    c.security_contact_name,
                    c.security_contact_email,
                    "yes" if c.attestation else "no",
                )
            ]
        )
    return "\ufeff" + out.getvalue()


def _country(text):
    text = " ".join((text or "").split())
    if not text:
        return ""
    if text.upper() in COUNTRY_NAMES:
        return text.upper()
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return text


def decode_upload(uploaded_file, *, field="file"):
    """The upload's text, or a ``PortalError`` saying why it cannot be read as a CSV file."""
    if uploaded_file is None:
        raise PortalError("Choose a CSV file to upload.", field=field)
    size = uploaded_file.size or 0
    if size == 0:
        raise PortalError("The file is empty. Download the template, fill it in and upload it.", field=field)
    if size > MAX_IMPORT_BYTES:
        raise PortalError(
            f"The file is {size / (1024 * 1024):.1f} MB; a customer import can be at most "
            f"{MAX_IMPORT_BYTES // (1024 * 1024)} MB ({MAX_IMPORT_ROWS:,} rows). "
            "Split it into smaller files.",
            field=field,
        )
    uploaded_file.seek(0)
    raw = uploaded_file.read()
    uploaded_file.seek(0)
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise PortalError(
            "This is a spreadsheet workbook, not a CSV file. In your spreadsheet choose “Save as” → "
            "“CSV UTF-8 (comma delimited)” and upload that.",
            field=field,
        )
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
    if raw.startswith(b"%PDF-") or (b"\x00" in raw[:65536] and not utf16):
        raise PortalError("This is not a CSV file. Upload the customers as a CSV file.", field=field)
    if utf16:
        raise PortalError(
            "The file is encoded as UTF-16; the portal reads CSV files in UTF-8. In your spreadsheet choose "
            "“CSV UTF-8 (comma delimited)” when saving.",
            field=field,
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PortalError(
            f"The file is not in UTF-8 (the first unreadable character is on line {line}); it may be in an "
            "older encoding such as Windows-1252. In your spreadsheet choose “CSV UTF-8 (comma delimited)” "
            "when saving, and upload it again.",
            field=field,
        ) from None
    return text


def read_customer_csv(uploaded_file, *, field="file"):
    """Rows of a customer CSV: dicts of the columns plus ``row`` (the spreadsheet row number,
    the header being row 1) and ``problems`` found while reading.

    Raises ``PortalError`` when the file as a whole cannot be used.
    """
    text = decode_upload(uploaded_file, field=field)
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise PortalError("The file has no header row. Start from the template.", field=field) from None
    names = [" ".join(h.split()).casefold().replace(" ", "_").replace("-", "_") for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise PortalError(
            "The first row must name the columns; missing: "
            + ", ".join(missing)
            + ". Start from the template (it has every column).",
            field=field,
        )
    index = {name: names.index(name) for name in COLUMN_NAMES if name in names}
    rows = []
    number = 1
    try:
        # Count the row before reading it: a cell over the size limit fails inside the read,
        # and the message must name the row that holds it.
        while True:
            number += 1
            try:
                record = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise PortalError(
                    f"The file has more than {MAX_IMPORT_ROWS:,} customers. Split it into smaller files.",
                    field=field,
                )
            rows.append(_row(record, number, index, len(header)))
    except csv.Error as exc:
        raise PortalError(
            f"Row {number} cannot be read as CSV ({exc}). Check its quotes.", field=field
        ) from None
    if not rows:
        raise PortalError("The file has a header but no customers.", field=field)
    return rows


def _row(record, number, index, width):
    problems = []
    if len(record) > width:
        problems.append(f"it has {len(record)} cells but the header names {width} columns")
    values = {name: (record[i] if i < len(record) else "") for name, i in index.items()}
    row = {"row": number, "problems": problems}
    for name in COLUMN_NAMES:
        row[name] = values.get(name, "")
    row["country"] = _country(row["country"])
    sector = " ".join(row["sector"].split())
    row["sector"] = _SECTOR_BY_TEXT.get(sector.casefold(), sector)
    attestation = row["attestation"].strip().casefold()
    if attestation in _YES:
        row["attestation"] = True
    elif attestation in _NO:
        row["attestation"] = False
    else:
        problems.append(f"column attestation (“{row['attestation'][:20]}”): must be yes or no")
    if problems:
        row["problems"] = [p[0].upper() + p[1:] + "." for p in problems]
    return row
