"""Chinese is the platform's default language; English only when the user has chosen it (the language switch sets
a cookie). The browser's Accept-Language is deliberately ignored: a Chinese enterprise's staff often run English
browsers, and the documents they compare must read the same for everybody."""

from django.conf import settings
from django.utils import translation
from django.utils.deprecation import MiddlewareMixin


class ChineseFirstLocaleMiddleware(MiddlewareMixin):
    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        response.headers.setdefault("Content-Language", translation.get_language())
        # The thread goes back to the platform's language, so nothing after this request (a job run in-process,
        # the next request on this thread) inherits one user's choice.
        translation.activate(settings.LANGUAGE_CODE)
        return response


class DomainErrorMiddleware:
    """A DomainError that escapes a portal view becomes a page that says what happened, with its HTTP status
    (404 for another tenant's object, 403 for a missing role, 409 for a state that no longer allows the action),
    never a server error. API views render errors themselves (core.api.exception_handler)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from core.exceptions import DomainError

        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        if request.path.startswith("/m/"):
            base = "m/base.html"
        elif request.path.startswith("/enterprise/"):
            base = "enterprise/base.html"
        else:
            base = "base.html"
        return render(request, "core/error.html", {"error": exception, "base_template": base},
                      status=exception.http_status)
