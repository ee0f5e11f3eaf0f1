"""Portal helpers: the one way server-rendered pages turn a DomainError into something the user reads."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect

from core.exceptions import DomainError


class DomainErrorMixin:
    """For FormViews: ``form_valid`` calls ``perform(form)``; a DomainError becomes a form error, nothing is saved.

    For other views: ``run_service(request, fn, success_url=..., success_message=...)`` flashes the error.
    """

    def perform(self, form):  # pragma: no cover - subclasses implement
        raise NotImplementedError

    def form_valid(self, form):
        try:
            result = self.perform(form)
        except DomainError as error:
            field = error.extra.get("form_field") if error.extra else None
            form.add_error(field if field in form.fields else None, error.message)
            return self.form_invalid(form)
        return result if result is not None else redirect(self.get_success_url())

    def run_service(self, request, fn, *, success_url: str, success_message: str = "", error_url: str | None = None):
        try:
            fn()
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(error_url or success_url)
        if success_message:
            messages.success(request, success_message)
        return redirect(success_url)
