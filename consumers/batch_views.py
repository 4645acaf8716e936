"""The batch tool's pages: start a batch (preview), follow it, confirm or cancel it, report."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh

from portal.access import get_company, partner_view
from portal.csvexport import csv_response
from portal.db import replica_view
from portal.web import act, paginate, querystring_without, submit

from . import exports, selectors
from .forms import BatchForm
from .models import BatchAction, ConsumerKind
from .services import batch as batches
from .views import KINDS


def _kind(request: HttpRequest) -> str:
    kind = request.GET.get("kind") or request.POST.get("kind") or ConsumerKind.USER
    return kind if kind in ConsumerKind.values else ConsumerKind.USER


@partner_view(write=True)
@require_http_methods(["GET", "POST"])
def batch_new(request: HttpRequest, company_id: str) -> HttpResponse:
    """Start a batch from a selection (BatchForm says which); creates a preview, nothing
    changes yet."""
    company = get_company(request, company_id)
    kind = _kind(request)
    kind_page = KINDS[kind]
    form = BatchForm(
        request.POST or None,
        request.FILES or None,
        initial={"action": request.GET.get("action", BatchAction.DELETE)},
    )
    done, batch = submit(
        request,
        form,
        lambda data: batches.batch_preview(
            actor=request.user,
            company=company,
            kind=kind,
            action=data["action"],
            **form.selection(),
        ),
    )
    if done:
        return redirect(
            "consumers:batch_detail", company_id=company.public_id, batch_id=batch.public_id
        )
    context = {"company": company, "tab": kind_page.tab, "kind_page": kind_page, "form": form}
    return render(request, "consumers/batch_new.html", context)


@partner_view()
def batch_detail(request: HttpRequest, company_id: str, batch_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    batch = selectors.batch_get(company=company, public_id=batch_id)
    kind_page = KINDS[batch.kind]
    show = request.GET.get("show", "")
    items = selectors.batch_items(batch=batch, show=show)
    return render(
        request,
        "consumers/batch_detail.html",
        {
            "company": company,
            "tab": kind_page.tab,
            "kind_page": kind_page,
            "batch": batch,
            "summary": selectors.batch_summary(batch=batch),
            "page": paginate(request, items, per_page=100),
            "show": show,
            "qs_page": querystring_without(request, "page"),
        },
    )


@partner_view()
@vary_on_headers("HX-Request")
def batch_progress(request: HttpRequest, company_id: str, batch_id: str) -> HttpResponse:
    """The progress bar that the batch page polls while the batch runs."""
    company = get_company(request, company_id)
    batch = selectors.batch_get(company=company, public_id=batch_id)
    if not request.htmx:
        return redirect(
            "consumers:batch_detail", company_id=company.public_id, batch_id=batch.public_id
        )
    if not batch.running:
        # The items table below the bar shows each outcome: reload the whole page, once.
        return HttpResponseClientRefresh()
    return render(
        request, "consumers/includes/batch_progress.html", {"company": company, "batch": batch}
    )


@partner_view(write=True)
@require_POST
def batch_confirm(request: HttpRequest, company_id: str, batch_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    batch = selectors.batch_get(company=company, public_id=batch_id)
    act(request, lambda: batches.batch_confirm(actor=request.user, batch=batch))
    return redirect(
        "consumers:batch_detail", company_id=company.public_id, batch_id=batch.public_id
    )


@partner_view(write=True)
@require_POST
def batch_cancel(request: HttpRequest, company_id: str, batch_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    batch = selectors.batch_get(company=company, public_id=batch_id)
    batches.batch_cancel(actor=request.user, batch=batch)
    messages.info(request, "Batch cancelled: nothing was changed.")
    return redirect(KINDS[batch.kind].list_url, company_id=company.public_id)


@partner_view()
@replica_view
def batch_report(request: HttpRequest, company_id: str, batch_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    batch = selectors.batch_get(company=company, public_id=batch_id)
    return csv_response(
        filename=f"batch-{batch.public_id}.csv",
        header=exports.BATCH_REPORT_HEADER,
        rows=exports.batch_report_rows(batch),
    )
