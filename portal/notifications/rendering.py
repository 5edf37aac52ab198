"""The bodies of a notification's mail: one template per event, rendered into the text and the
HTML layouts (``render_email``), and many mails with the same words rendered about twice
(``render_emails``). ``services.notify`` and ``notify_addresses`` call them."""

import html as html_text
import re
import uuid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, TemplateDoesNotExist, Variable
from django.template.loader import get_template, render_to_string
from django.template.loader_tags import ExtendsNode

PORTAL_NAME = "Frontier Access Portal"


def render_email(event, context):
    """The plain-text and HTML bodies for ``event``, from one template.

    ``notifications/email/<event>.txt`` (else ``generic.txt``) holds the event's words once,
    as plain text. It starts ``{% extends email_layout %}`` and fills ``body`` (and, to
    change the button's words, ``action_label``); it is rendered into
    ``notifications/email/base.txt`` for the text part and into ``base.html`` for the HTML
    part, where the body is shown through ``email_html.text_to_html`` (paragraphs, lists,
    links, everything escaped). A template without ``{% extends %}`` is a fragment: it is
    rendered as plain text and put inside each layout as ``content``. The layouts add the
    greeting, the action link, the reference and the footer.
    """
    context = {"portal_name": PORTAL_NAME, "base_url": settings.PORTAL_BASE_URL, "event": event, **context}
    template = _event_template(event)
    text = _render_part(template, "txt", context)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.strip().splitlines()))
    return text + "\n", _render_part(template, "html", context)


def render_emails(event, contexts):
    """``render_email(event, context)`` for each of ``contexts``, rendering the templates about
    twice rather than once per context when the contexts differ only in plain text.

    A suspension tells thousands of security contacts the same words, each with their own
    name, address, customers and subject. The values that differ between contexts (top-level
    strings, and strings inside dict values such as ``recipient``) become slots: the templates
    are rendered once with a marker in each slot, and each mail is that text with its values put
    in (escaped in the HTML part, as the templates escape them). A second render, with values
    full of characters HTML escapes, proves that every slot is shown as plain escaped text in
    both parts; if it is not (a filter, a test on the value, ``|safe``), or the contexts differ
    in anything else, each context is rendered on its own. So is a context whose value could be
    shown differently from a marker: empty (``|default`` and ``{% if %}``), with a line break
    or an address (the HTML part makes links and paragraphs), or with spaces at either end.
    """
    contexts = list(contexts)
    slots = _slots(contexts) if len(contexts) >= 3 else None
    if slots is None:
        return [render_email(event, context) for context in contexts]
    marker = f"q{uuid.uuid4().hex}x"
    markers = {path: f"{marker}{n}z" for n, path in enumerate(slots)}
    probes = {path: f"<b>&amp;\"'{n}\u00e9</b>" for n, path in enumerate(slots)}
    marked = render_email(event, _with_values(contexts[0], markers))
    probed = render_email(event, _with_values(contexts[0], probes))
    pattern = re.compile("(" + re.escape(marker) + r"\d+z)")
    by_marker = {markers[path]: path for path in slots}
    # each part split once at its markers: text, marker, text, …; a mail joins its values in
    pieces = [pattern.split(part) for part in marked]

    def fill(values):
        escaped = {path: html_text.escape(value) for path, value in values.items()}  # as the templates escape
        text, html = (
            "".join(piece if n % 2 == 0 else shown[by_marker[piece]] for n, piece in enumerate(part_pieces))
            for part_pieces, shown in zip(pieces, (values, escaped), strict=True)
        )
        return text, html

    if fill(probes) != probed:
        return [render_email(event, context) for context in contexts]
    rendered = []
    for context in contexts:
        values = {path: _value_at(context, path) for path in slots}
        if all(_fits_a_slot(value) for value in values.values()):
            rendered.append(fill(values))
        else:
            rendered.append(render_email(event, context))
    return rendered


def _value_at(context, path):
    value = context
    for key in path:
        value = value[key]
    return value


def _with_values(context, values):
    context = {key: dict(value) if isinstance(value, dict) else value for key, value in context.items()}
    for path, value in values.items():
        target = context
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return context


def _slots(contexts):
    """The paths of the string values that differ between ``contexts``, or ``None`` when they
    differ in anything else (other types, other keys)."""
    first = contexts[0]
    slots = []
    for key, value in first.items():
        if isinstance(value, dict):
            for inner in value:
                if any(not isinstance(c.get(key), dict) or c[key].keys() != value.keys() for c in contexts):
                    return None
                if any(c[key][inner] != value[inner] for c in contexts):
                    if not all(isinstance(c[key][inner], str) for c in contexts):
                        return None
                    slots.append((key, inner))
        elif any(key not in c or c[key] != value for c in contexts):
            if not all(isinstance(c.get(key), str) for c in contexts):
                return None
            slots.append((key,))
    if any(c.keys() != first.keys() for c in contexts):
        return None
    return slots


def _fits_a_slot(value):
    return (
        type(value) is str  # (a value marked safe would be shown unescaped)
        and bool(value)
        and value == value.strip()
        and "\n" not in value
        and "\r" not in value
        and "://" not in value
        and not value.startswith("*")
    )


def _event_template(event):
    try:
        return get_template(f"notifications/email/{event}.txt")
    except TemplateDoesNotExist:
        return get_template("notifications/email/generic.txt")


def _render_part(template, extension, context):
    layout = f"notifications/email/base.{extension}"
    extends = template.template.nodelist.get_nodes_by_type(ExtendsNode)
    if extends:
        if not isinstance(extends[0].parent_name.var, Variable):
            raise ImproperlyConfigured(
                f"{template.origin.template_name} must start with {{% extends email_layout %}}: its words "
                "are rendered into both the text and the HTML layout."
            )
        return template.render({**context, "email_layout": layout})
    content = template.template.render(Context(context, autoescape=False))
    return render_to_string(layout, {**context, "content": content})
