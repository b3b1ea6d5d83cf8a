"""
A base for the project's middleware that runs in either mode, without a thread switch.

Django runs a middleware that is only sync-capable under ASGI through ``sync_to_async``: a
hop to a worker thread and back for every such middleware between two async ones. The
project's middleware do no I/O of their own before or after the view (headers, cookies,
flags on the request), so each runs in whichever mode the chain around it is in: called
under WSGI, awaited under ASGI. A middleware with I/O of its own after the view
(``accounts.middleware.SignInMiddleware``) overrides ``__acall__`` and sends only that I/O
to a thread. ``StaticFilesMiddleware`` does the same for whitenoise's.
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from whitenoise.middleware import WhiteNoiseMiddleware


class RunsInBothModes:
    """
    A middleware called under WSGI (``sync_call``) and awaited under ASGI (``__acall__``),
    whichever the chain around it is: Django gives it an async ``get_response`` only under
    ASGI. The subclass's ``__init__`` calls ``_choose_mode``.
    """

    sync_capable = True
    async_capable = True

    def _choose_mode(self, get_response) -> None:
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.async_mode:
            return self.__acall__(request)
        return self.sync_call(request)


class SyncAndAsyncMiddleware(RunsInBothModes):
    """
    Subclasses implement ``before(request)`` (returns a state, or a response to answer
    with at once) and ``after(request, response, state)``; both must do no I/O.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._choose_mode(get_response)

    def sync_call(self, request):
        state = self.before(request)
        return self.after(request, self.get_response(request), state)

    async def __acall__(self, request):
        state = self.before(request)
        return self.after(request, await self.get_response(request), state)

    def before(self, request):
        return None

    def after(self, request, response, state):
        return response


class StaticFilesMiddleware(RunsInBothModes, WhiteNoiseMiddleware):
    """
    whitenoise's middleware (6.12 is sync-only), able to run under ASGI too: a request for
    a file it does not serve is one dictionary lookup, done in the event loop; serving a
    file (opening it) and DEBUG's look-up on disk (``autorefresh``) go to a thread.
    """

    def __init__(self, get_response=None):
        super().__init__(get_response)
        self._choose_mode(get_response)

    def sync_call(self, request):
        return WhiteNoiseMiddleware.__call__(self, request)

    async def __acall__(self, request):
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)
