"""The vendor's pages for the review process (U.S. Web Design System): requests, enforcement
notices, grants and incidents, and the panels this app adds to the registry's pages."""
