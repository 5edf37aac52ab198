"""Onboarding (issue 13): a company applies to become a vendor, a portal administrator approves
(the organisation and vendor are created, its first compliance admin invited) or rejects; a
vendor's change of legal name is a request a portal administrator approves."""
