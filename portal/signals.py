"""Changes that a company's state depends on drop its partner's cached tab counts
(portal.counts_cache). Receivers, so that Django admin and every service are covered alike.

Writes that send no model signals (bulk_create, QuerySet.update) of companies, or of their
licences or evaluation dates, must call `forget_company_counts` themselves; none does today."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .counts_cache import forget_company_counts
from .models import Company, Partner

LICENSE = "licensing.License"


def _partners(where: Q) -> list[Any]:
    return list(Partner.objects.filter(where).values_list("public_id", flat=True))


# A company or licence moved to another partner (in Django admin) changes the counts of both:
# the partner it had is read before the save.
@receiver(pre_save, sender=Company)
def _company_partner_before(sender: type, instance: Company, **kwargs: Any) -> None:
    if not instance._state.adding:
        instance._counts_partners_before = _partners(Q(companies=instance.pk))


@receiver(pre_save, sender=LICENSE)
def _licence_partner_before(sender: type, instance: Any, **kwargs: Any) -> None:
    if not instance._state.adding:
        instance._counts_partners_before = _partners(Q(companies__licences=instance.pk))


@receiver(post_save, sender=Company)
@receiver(post_delete, sender=Company)
def _company_changed(sender: type, instance: Company, **kwargs: Any) -> None:
    before = getattr(instance, "_counts_partners_before", [])
    forget_company_counts([*before, *_partners(Q(pk=instance.partner_id))])


@receiver(post_save, sender=LICENSE)
@receiver(post_delete, sender=LICENSE)
def _licence_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    before = getattr(instance, "_counts_partners_before", [])
    forget_company_counts([*before, *_partners(Q(companies=instance.company_id))])
