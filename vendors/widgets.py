"""Pickers that scale: a select that carries only a few options and searches the server for the rest.

``SearchSelect`` renders an ordinary ``<select>`` holding the current choice and the first few
choices (so the page works without JavaScript for small registries and never grows with a large
one); ``portal/static/portal/combobox.js`` turns it into an accessible combo box (ARIA 1.2
combobox with a listbox, keyboard operable, the number of results announced) that asks
``data-search-url`` for matches as the person types. The field still validates against its full
queryset, so a value typed or forged outside the options is refused as usual.
"""

from django import forms

from portal.params import int_param


class SearchSelect(forms.Select):
    """A select that lists the selected choice and the first ``preload`` choices only."""

    def __init__(self, *, search_url, preload=20, attrs=None):
        super().__init__(attrs=attrs)
        self.search_url = search_url
        self.preload = preload

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs["data-search-url"] = str(self.search_url)
        widget_attrs["class"] = (widget_attrs.get("class", "") + " portal-search-select").strip()
        return context

    def optgroups(self, name, value, attrs=None):
        # what was posted may be anything typed or forged: only plain ids are looked up
        selected = {str(v) for v in value if int_param(v) is not None}
        queryset = getattr(self.choices, "queryset", None)
        if queryset is None:
            return super().optgroups(name, value, attrs)
        field = self.choices.field
        instances = list(queryset.filter(pk__in=selected)) if selected else []
        instances += [obj for obj in queryset[: self.preload] if str(obj.pk) not in selected]
        groups = []
        if field.empty_label is not None:
            groups.append((None, [self.create_option(name, "", field.empty_label, not selected, 0)], 0))
        for index, obj in enumerate(instances, start=1):
            option_value = str(field.prepare_value(obj))
            label = field.label_from_instance(obj)
            groups.append(
                (
                    None,
                    [self.create_option(name, option_value, label, option_value in selected, index)],
                    index,
                )
            )
        return groups
