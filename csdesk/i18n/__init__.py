"""Console translations: Babel message catalogs, Simplified Chinese first, English second.

Source strings (msgids) are English; ``locales/<locale>/LC_MESSAGES/messages.po`` hold the
translations. The ``.po`` files are compiled in memory at startup (no build step, no
``.mo`` files to keep in sync). Templates use Jinja's ``i18n`` extension (``{% trans %}``,
``_()``); the console's JavaScript calls ``t("...")`` and gets its strings from the page.

The locale is the ``csdesk_lang`` cookie (set by the 中文/EN switch), else ``zh_CN``.

Updating the catalogs after changing strings::

    pybabel extract -F csdesk/i18n/babel.cfg -k t -o csdesk/i18n/messages.pot .
    pybabel update -i csdesk/i18n/messages.pot -d csdesk/i18n/locales

then translate the new entries of ``zh_CN`` (``tests/unit/test_i18n_catalogs.py`` fails
while one is missing or the catalogs are stale).
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import jinja2
from aiohttp import web
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup

from csdesk.keys import TEMPLATES_KEY

LOCALES: Final = ("zh_CN", "en")
DEFAULT_LOCALE: Final = "zh_CN"
LANG_COOKIE: Final = "csdesk_lang"
LANG_COOKIE_MAX_AGE_S: Final = 365 * 24 * 3600
LOCALE_DIR: Final = Path(__file__).parent / "locales"
HTML_LANG: Final[Mapping[str, str]] = MappingProxyType({"zh_CN": "zh-CN", "en": "en"})


@dataclass(frozen=True)
class Catalogs:
    """Compiled translations per locale, and the JavaScript strings each page embeds."""

    translations: Mapping[str, gettext.NullTranslations]
    js_messages: Mapping[str, Mapping[str, str]]
    """Per locale: ``{msgid: translation}`` for every msgid found in a ``.js`` file."""

    def get(self, locale: str) -> gettext.NullTranslations:
        return self.translations.get(locale) or self.translations[DEFAULT_LOCALE]


I18N_KEY: Final = web.AppKey("i18n", Catalogs)


def read_catalog(locale: str, locale_dir: Path = LOCALE_DIR) -> Catalog:
    path = locale_dir / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def compile_catalog(catalog: Catalog) -> Translations:
    """The catalog as gettext translations, compiled in memory (what ``.mo`` files hold)."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def _from_javascript(message: Any) -> bool:
    return any(str(path).endswith(".js") for path, _line in message.locations)


def load_catalogs(locale_dir: Path = LOCALE_DIR) -> Catalogs:
    """The catalogs, parsed once per process for as long as their files do not change:
    parsing both ``.po`` files costs about a second, and every app a process creates (each
    test's, each worker's) would pay it again."""
    stamps = tuple(
        (locale_dir / locale / "LC_MESSAGES" / "messages.po").stat().st_mtime_ns
        for locale in LOCALES
    )
    return _parsed_catalogs(locale_dir, stamps)


@functools.cache
def _parsed_catalogs(locale_dir: Path, stamps: tuple[int, ...]) -> Catalogs:
    del stamps  # part of the cache key only: an edited catalog is parsed again
    translations: dict[str, gettext.NullTranslations] = {}
    js_messages: dict[str, dict[str, str]] = {}
    for locale in LOCALES:
        catalog = read_catalog(locale, locale_dir)
        compiled = compile_catalog(catalog)
        translations[locale] = compiled
        js_messages[locale] = {
            message.id: compiled.gettext(message.id)
            for message in catalog
            if message.id and isinstance(message.id, str) and _from_javascript(message)
        }
    return Catalogs(MappingProxyType(translations), MappingProxyType(js_messages))


def setup_i18n(app: web.Application) -> None:
    """Enable ``{% trans %}`` on the app's templates and load the catalogs (once, at start)."""
    environment = app[TEMPLATES_KEY]
    environment.add_extension("jinja2.ext.i18n")
    # New-style gettext: ``%(name)s`` placeholders, autoescaped variables.
    environment.extend(newstyle_gettext=True)
    app[I18N_KEY] = load_catalogs()


def request_locale(request: web.Request) -> str:
    value = request.cookies.get(LANG_COOKIE, "")
    return value if value in LOCALES else DEFAULT_LOCALE


def _newstyle_gettext(translations: gettext.NullTranslations) -> Callable[..., str]:
    """What Jinja's ``install_gettext_translations(newstyle=True)`` installs, per request."""

    @jinja2.pass_context
    def gettext_(context: jinja2.runtime.Context, message: str, **variables: Any) -> str:
        value = translations.gettext(message)
        if context.eval_ctx.autoescape:
            value = Markup(value)
        return value % variables if variables else value

    return gettext_


def _newstyle_ngettext(translations: gettext.NullTranslations) -> Callable[..., str]:
    @jinja2.pass_context
    def ngettext_(
        context: jinja2.runtime.Context, singular: str, plural: str, num: int, **variables: Any
    ) -> str:
        variables.setdefault("num", num)
        value = translations.ngettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            value = Markup(value)
        return value % variables

    return ngettext_


def i18n_context(request: web.Request) -> dict[str, Any]:
    """Template variables for the request's locale: ``gettext``/``_``/``ngettext``, the
    locale, its HTML ``lang`` and the strings the page's scripts need."""
    catalogs = request.app[I18N_KEY]
    locale = request_locale(request)
    translations = catalogs.get(locale)
    gettext_ = _newstyle_gettext(translations)
    return {
        "gettext": gettext_,
        "_": gettext_,
        "ngettext": _newstyle_ngettext(translations),
        "locale": locale,
        "html_lang": HTML_LANG[locale],
        "js_messages": dict(catalogs.js_messages.get(locale, {})),
    }


def translate(request: web.Request, message: str) -> str:
    """One string in the request's locale (for Python code that builds text for a page)."""
    return request.app[I18N_KEY].get(request_locale(request)).gettext(message)
