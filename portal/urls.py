"""The tenancy app's pages (namespace "portal") and the sign-in pages (no namespace: Django's
auth views and emails reverse them by these names). project.urls mounts both."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .forms import EmailAuthenticationForm

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("companies/", views.company_list, name="company_list"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/<uuid:company_id>/", views.company_detail, name="company_detail"),
    path("companies/<uuid:company_id>/edit/", views.company_edit, name="company_edit"),
    path("companies/<uuid:company_id>/delete/", views.company_delete, name="company_delete"),
    path("companies/<uuid:company_id>/activity/", views.company_activity, name="company_activity"),
    path("staff/", views.member_list, name="member_list"),
    path("staff/invite/", views.member_invite, name="member_invite"),
    path("staff/<uuid:member_id>/role/", views.member_role, name="member_role"),
    path("staff/<uuid:member_id>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("staff/<uuid:member_id>/reactivate/", views.member_reactivate, name="member_reactivate"),
    path("staff/<uuid:member_id>/resend/", views.member_resend, name="member_resend"),
    path("staff/<uuid:member_id>/reset-2fa/", views.member_reset_2fa, name="member_reset_2fa"),
]

account_patterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=EmailAuthenticationForm
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/2fa/", views.two_factor, name="two_factor"),
    path("accounts/password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
