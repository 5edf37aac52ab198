"""The vendor API: tokens, the entitlement check, REST endpoints and signed webhooks.

It sits above the apps it serves (``api → approvals → vendors → portal``): its views parse,
call the apps' services and selectors, and render; it holds no rule of its own beyond who may
use a token.
"""
