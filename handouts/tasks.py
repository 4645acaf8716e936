from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def handout_export_run(export_id: int) -> str | None:
    export = services.handout_export_run(export_id=export_id)
    return export.status if export else None


@shared_task
def handout_exports_recover() -> int:
    return services.handout_exports_recover()


@shared_task
def handout_part_run(part_id: int) -> str | None:
    part = services.handout_part_run(part_id=part_id)
    return part.status if part else None
