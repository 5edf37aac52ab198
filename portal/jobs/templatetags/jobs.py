"""``{% has_background_jobs as name %}``: does the signed-in person have background work to see?
(The menu's link to /jobs/ is shown only then.)"""

from django import template

from portal.jobs.selectors import has_jobs

register = template.Library()


@register.simple_tag(takes_context=True)
def has_background_jobs(context):
    request = context.get("request")
    return has_jobs(getattr(request, "user", None))
