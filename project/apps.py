from __future__ import annotations

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The composition root, above every app: the URLconf that mounts them all and the demo
    data command that uses them all. It holds no models and no rules."""

    name = "project"
    verbose_name = "Project"
