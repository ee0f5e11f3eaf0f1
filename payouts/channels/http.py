"""Keep-alive HTTP/1.1 for channel calls (the adapters) and for the sandbox's notifications (the platform).

One TCP connection per request (what ``urllib`` does) costs a handshake, a server thread and a socket in TIME_WAIT
per payout; at hundreds of payouts a second that is most of the work and ends in connection resets. This pool keeps
idle connections per origin and lends one to each request (any thread), as a channel's SDK does.

- Never through a proxy from the environment (``http.client`` reads none): a proxy would see the signed payloads
  and could turn a timeout into a proxy's error page.
- A connection that the server closed while it sat idle fails on its next use before any answer is read
  (``RemoteDisconnected``, reset, broken pipe). Only then, and only on a *reused* connection, the request is sent
  once more on a new one. Every channel request carries its idempotency key (or is a query), so a resend is the
  same request: the channel answers the original result. A timeout is never resent: it is UNKNOWN to the caller.
- Any other answer — 4xx, 5xx — is returned as it is; the caller decides.
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.parse

_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class _NoDelay:
    def connect(self):
        super().connect()
        # http.client writes the headers and the body separately: without TCP_NODELAY the body of a request on a
        # kept-alive connection waits for the server's delayed ACK (~40 ms).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _HTTPConnection(_NoDelay, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_NoDelay, http.client.HTTPSConnection):
    pass


class KeepAlivePool:
    def __init__(self, *, max_idle_per_origin: int = 64):
        self.max_idle = max_idle_per_origin
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def _take(self, origin: tuple[str, str, int], timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(origin)
            connection = idle.pop() if idle else None
        if connection is not None:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            return connection, True
        scheme, host, port = origin
        kind = _HTTPSConnection if scheme == "https" else _HTTPConnection
        return kind(host, port, timeout=timeout), False

    def _give_back(self, origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self.max_idle:
                idle.append(connection)
                return
        connection.close()

    def request(self, method: str, url: str, *, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body). Raises OSError (refused, reset, timeout) or ``http.client.HTTPException``."""
        parts = urllib.parse.urlsplit(url)
        origin = (parts.scheme or "http", parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        for attempt in (1, 2):
            connection, reused = self._take(origin, timeout)
            try:
                connection.request(method, target, body=body, headers=headers or {})
                response = connection.getresponse()
                data = response.read()
            except _STALE:
                connection.close()
                if reused and attempt == 1:
                    continue  # closed by the server while idle: once more on a fresh connection
                raise
            except BaseException:
                connection.close()
                raise
            if response.will_close:
                connection.close()
            else:
                self._give_back(origin, connection)
            return response.status, dict(response.getheaders()), data
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


#: The process's pool (the adapters' and the sandbox's calls share it; origins are kept apart).
POOL = KeepAlivePool()
