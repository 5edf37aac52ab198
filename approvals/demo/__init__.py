"""The demo world of the review process: requests in every lifecycle state, and enforcement."""
