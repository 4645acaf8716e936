from __future__ import annotations

from django.urls import path

from . import views

app_name = "handouts"

urlpatterns = [
    path("handout/", views.handout, name="handout"),
    path("handout/<uuid:export_id>/", views.export_detail, name="export_detail"),
    path("handout/<uuid:export_id>/download/", views.export_download, name="export_download"),
]
