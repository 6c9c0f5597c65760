"""The embedded REST + Socket.IO server: thin adapters over the app's services.

Modules: :mod:`~app.server.service` (the runtime service: uvicorn inside the app's loop),
:mod:`~app.server.app` (the ASGI app), :mod:`~app.server.auth` (password hash, JWTs),
:mod:`~app.server.realtime` (Socket.IO), :mod:`~app.server.routes` (REST), :mod:`~app.server.schemas`
(the wire format), :mod:`~app.server.errors`, :mod:`~app.server.ratelimit`, :mod:`~app.server.limits`,
:mod:`~app.server.cli` (``server set-password``). Importing this package loads no web framework.
"""
