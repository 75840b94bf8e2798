"""The e-mail templates, rendered with each constant ``{% translate "…" %}`` looked up once per language.

A receipt renders two templates (emails/notification.txt and .html) and 12 ``{% translate %}``
tags in them; each tag resolves its literal, makes a lazy string, looks the message up in the
active catalogue, escapes it and restores its percent signs on every render: about 45 % of the
templates' rendering (issue 9 item 5; bench/perf_notes.md, stop 30). A tag with a literal message and
nothing else (no filter, no ``context``, no ``as``) renders to a value that depends only on the
active language and on autoescaping, so ``render`` keeps what the tag itself rendered the first time
per (language, autoescape) and gives it back afterwards (``_ConstantTranslation``). Every other node
renders as Django renders it. The templates stay the single source of the text; ``render`` gives what
``django.template.loader.render_to_string`` gives, character for character
(tests/notifications/test_mail_templates.py).

The tags are replaced in a private compilation of the template (the engine's own, cached by its
loader, is not changed); a new one is made when the loader gives a new template (its cache reset,
as the development autoreloader does on a template change). What was kept is forgotten when a
setting that changes the catalogues or the active language changes (``override_settings`` in
tests), as Django's own translation caches are.
"""

from __future__ import annotations

import weakref
from typing import Any, TypeGuard

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import engines
from django.template.base import Node, NodeList, Template, Variable
from django.template.context import Context, make_context
from django.template.defaulttags import IfNode
from django.templatetags.i18n import TranslateNode
from django.utils import translation


class _ConstantTranslation(Node):
    """A ``{% translate "literal" %}`` node: rendered by the original node once per (language,
    autoescape), then given from ``rendered``."""

    child_nodelists = ()

    def __init__(self, node: TranslateNode) -> None:
        self.node = node
        # What Django reports of a node that fails (render_annotated, the debug page).
        self.token, self.origin = node.token, node.origin
        # (language, autoescape) -> the node's output (a SafeString where Django's is one).
        self.rendered: dict[tuple[str | None, bool], str] = {}
        _NODES.add(self)

    def render(self, context: Context) -> str:
        key = (translation.get_language(), context.autoescape)
        try:
            return self.rendered[key]
        except KeyError:
            value = self.rendered[key] = self.node.render(context)
            return value


_NODES: weakref.WeakSet[_ConstantTranslation] = weakref.WeakSet()
# The settings Django's own translation caches are reset on (django.test.signals).
_TRANSLATION_SETTINGS = frozenset({"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "USE_I18N"})


@receiver(setting_changed)
def _forget_translations(*, setting: str, **kwargs: Any) -> None:
    if setting in _TRANSLATION_SETTINGS:
        for node in list(_NODES):
            node.rendered.clear()


def _is_constant(node: Node) -> TypeGuard[TranslateNode]:
    if not isinstance(node, TranslateNode) or node.asvar or node.message_context:
        return False
    expression = node.filter_expression
    var = expression.var
    return not expression.filters and isinstance(var, Variable) and var.literal is not None and var.lookups is None


def _nodelists(node: Node) -> list[NodeList]:
    """The node lists directly inside ``node`` (``{% if %}`` keeps one per branch: its ``nodelist``
    attribute is a new list on every access)."""
    if isinstance(node, IfNode):
        return [nodelist for _condition, nodelist in node.conditions_nodelists]
    return [nodelist for name in node.child_nodelists
            if isinstance(nodelist := getattr(node, name, None), NodeList)]


def _replace_constants(nodelist: NodeList) -> None:
    for index, node in enumerate(nodelist):
        if _is_constant(node):
            nodelist[index] = _ConstantTranslation(node)
        else:
            for inner in _nodelists(node):
                _replace_constants(inner)


# The engine's template -> its private compilation with the constant tags replaced.
_PREPARED: weakref.WeakKeyDictionary[Template, Template] = weakref.WeakKeyDictionary()


def _prepared(name: str) -> tuple[Template, bool]:
    engine = engines["django"].engine  # type: ignore[attr-defined]
    loaded = engine.get_template(name)
    prepared = _PREPARED.get(loaded)
    if prepared is None:
        prepared = Template(loaded.source, origin=loaded.origin, name=loaded.name, engine=engine)
        _replace_constants(prepared.nodelist)
        _PREPARED[loaded] = prepared
    return prepared, engine.autoescape


def render(name: str, context: dict[str, Any]) -> str:
    """``render_to_string(name, context)``, the constant translations looked up once per language."""
    template, autoescape = _prepared(name)
    return template.render(make_context(context, autoescape=autoescape))
