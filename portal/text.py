"""Words the portal writes around names people typed."""


def end_sentence(value):
    """A name that ends a sentence, with one full stop: "Acme Corp" → "Acme Corp.", and
    "Bluewater Shipping Inc." stays as it is (not "Inc..")."""
    text = str(value if value is not None else "").rstrip()
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."
