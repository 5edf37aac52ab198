"""The review process's part of the demo world (filled in by the review issue)."""


def seed_approvals(organisations):
    """Create agencies, routing rules and requests in every state."""
