from __future__ import annotations

import csv

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import get_company, partner_view
from portal.web import add_service_errors, paginate, querystring_without

from . import batch as batches
from .models import BatchAction, ConsumerKind, ItemOutcome
from .views import KINDS


class BatchForm(forms.Form):
    action = forms.ChoiceField(choices=BatchAction.choices, widget=forms.RadioSelect)
    file = forms.FileField(required=False, label="CSV file of addresses")
    text = forms.CharField(
        required=False,
        label="Or paste addresses",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="One address per line (or a CSV whose first column is the address).",
    )

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload:
            try:
                cleaned["text"] = upload.read(5 * 1024 * 1024).decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.") from None
        return cleaned


def _kind(request: HttpRequest) -> str:
    kind = request.GET.get("kind") or request.POST.get("kind") or ConsumerKind.USER
    return kind if kind in ConsumerKind.values else ConsumerKind.USER


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def batch_new(request: HttpRequest, company_id: str) -> HttpResponse:
    """Start a batch: from rows ticked on a list page, from "all N matching the filter", or from a
    pasted / uploaded list of addresses. Creates a preview; nothing changes yet."""
    company = get_company(request, company_id)
    kind = _kind(request)
    info = KINDS[kind]
    form = BatchForm(
        request.POST or None,
        request.FILES or None,
        initial={"action": request.GET.get("action", BatchAction.DELETE)},
    )
    source = request.POST.get("source", "list")
    if request.method == "POST" and form.is_valid():
        action = form.cleaned_data["action"]
        try:
            if source == "selection" and request.POST.get("all_matching") == "1":
                batch = batches.batch_preview(
                    actor=request.user,
                    company=company,
                    kind=kind,
                    action=action,
                    matching={k: request.POST.get(k, "") for k in ("q", "status", "pending")},
                )
            elif source == "selection":
                batch = batches.batch_preview(
                    actor=request.user,
                    company=company,
                    kind=kind,
                    action=action,
                    consumer_ids=request.POST.getlist("ids"),
                )
            else:
                addresses = batches.parse_address_list(form.cleaned_data.get("text") or "")
                batch = batches.batch_preview(
                    actor=request.user,
                    company=company,
                    kind=kind,
                    action=action,
                    addresses=addresses,
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(
                "consumers:batch_detail", company_id=company.public_id, batch_id=batch.public_id
            )
    return render(
        request,
        "consumers/batch_new.html",
        {"company": company, "tab": info.tab, "info": info, "form": form},
    )


def _summary(batch):  # type: ignore[no-untyped-def]
    return batch.items.aggregate(
        will=Count("id", filter=Q(will_run=True)),
        wont=Count("id", filter=Q(will_run=False)),
        failed=Count("id", filter=Q(outcome=ItemOutcome.FAILED)),
    )


@partner_view()
def batch_detail(request: HttpRequest, company_id: str, batch_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    batch = batches.batch_get(company=company, public_id=batch_id)
    info = KINDS[batch.kind]
    show = request.GET.get("show", "")
    items = batch.items.all()
    if show == "wont":
        items = items.filter(will_run=False)
    elif show == "failed":
        items = items.filter(outcome=ItemOutcome.FAILED)
    elif show == "will":
        items = items.filter(will_run=True)
    return render(
        request,
        "consumers/batch_detail.html",
        {
            "company": company,
            "tab": info.tab,
            "info": info,
            "batch": batch,
            "summary": _summary(batch),
            "page": paginate(request, items, per_page=100),
            "show": show,
            "qs_page": querystring_without(request, "page"),
        },
    )


@partner_view()
def batch_progress(request: HttpRequest, company_id: str, batch_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    batch = batches.batch_get(company=company, public_id=batch_id)
    return render(
        request, "consumers/includes/batch_progress.html", {"company": company, "batch": batch}
    )


@partner_view(write=True)
@require_POST
def batch_confirm(request: HttpRequest, company_id: str, batch_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    batch = batches.batch_get(company=company, public_id=batch_id)
    try:
        batches.batch_confirm(actor=request.user, batch=batch)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(
        "consumers:batch_detail", company_id=company.public_id, batch_id=batch.public_id
    )


@partner_view(write=True)
@require_POST
def batch_cancel(request: HttpRequest, company_id: str, batch_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    batch = batches.batch_get(company=company, public_id=batch_id)
    batches.batch_cancel(actor=request.user, batch=batch)
    messages.info(request, "Batch cancelled: nothing was changed.")
    return redirect(KINDS[batch.kind].list_url, company_id=company.public_id)


@partner_view()
def batch_report(request: HttpRequest, company_id: str, batch_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    batch = batches.batch_get(company=company, public_id=batch_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.public_id}.csv"'
    writer = csv.writer(response)
    writer.writerow(["address", "planned", "outcome", "message"])
    for item in batch.items.order_by("position").iterator(chunk_size=2000):
        writer.writerow([item.label, "yes" if item.will_run else "no", item.outcome, item.message])
    return response
