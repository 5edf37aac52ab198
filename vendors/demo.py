"""The registry's part of the demo world (filled in by the registry issue)."""


def seed_vendors(organisations):
    """Create the demo vendors' records. ``organisations`` maps names to Organisation rows."""
