"""Path converters for file formats, so an unknown format is a 404 before any view runs."""

from __future__ import annotations

from django.urls import register_converter


class _Choice:
    regex = ""

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class QrFormat(_Choice):
    regex = "png|svg"


class ConfigFormat(_Choice):
    regex = "json|cisco|poly"


register_converter(QrFormat, "qrfmt")
register_converter(ConfigFormat, "configfmt")
