"""``{% load languages %}{% language_choices as choices %}``: the portal's languages, each in its own name.

Django's ``get_available_languages`` translates the names into the page's language, and a
name in our catalogue ("English") then reads "Anglais" next to "Deutsch": the menu mixed
languages. Each language is shown in its own name, marked with its ``lang``.
"""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


def language_choices_list() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


@register.simple_tag
def language_choices() -> list[tuple[str, str]]:
    return language_choices_list()
