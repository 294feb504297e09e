"""The Bot API's HTTP client: python-telegram-bot's `BaseRequest` on aiohttp.

Why not PTB's default (httpx): with many updates handled side by side, httpcore's connection
pool re-checks every pooled socket (a `getpeername` and a `poll` each) twice per request, and a
bot answering 50 members at once spent ~2 ms of CPU per request there, several times what it
spent on the members' commands. aiohttp's connector hands out keep-alive connections without
that scan (~0.1 ms per request here). PTB documents `BaseRequest` as the way to bring another
HTTP library (https://docs.python-telegram-bot.org/en/v22.8/telegram.request.baserequest.html);
the contract kept here is HTTPXRequest's (PTB's timeouts, multipart when files are sent,
`TimedOut` / `NetworkError` for failures), with JSON bodies instead of form encoding.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# A timeout argument: seconds, None (no limit), or BaseRequest.DEFAULT_NONE, which PTB passes
# when the caller set nothing and the request's own default applies
# (https://docs.python-telegram-bot.org/en/v22.8/telegram.request.baserequest.html).
Timeout = float | None | object
_UNSET = BaseRequest.DEFAULT_NONE

_JSON = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    def __init__(self, connection_pool_size: int = 32, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0):
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=None))

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout,
                                bool(files))
        body, headers = _body(request_data, files)
        try:
            async with self._session.request(method, url, data=body, headers=headers,
                                             timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc

    def _timeout(self, read: Timeout, write: Timeout,
                 connect: Timeout, pool: Timeout,
                 files: bool) -> aiohttp.ClientTimeout:
        """aiohttp has no write timeout: sending counts against the whole request instead."""
        read = self._read_timeout if read is _UNSET else read
        connect = self._connect_timeout if connect is _UNSET else connect
        pool = self._pool_timeout if pool is _UNSET else pool
        if write is _UNSET:
            write = self._media_write_timeout if files else self._write_timeout
        # `connect` in aiohttp includes waiting for a pooled connection.
        waiting = None if connect is None or pool is None else connect + pool
        total = None if None in (read, write, waiting) else read + write + waiting
        return aiohttp.ClientTimeout(total=total, connect=waiting, sock_read=read)


def _body(request_data: RequestData | None,
          files: dict | None) -> tuple[bytes | aiohttp.FormData | None, dict[str, str] | None]:
    """A JSON body, which the Bot API accepts for everything but uploads
    (https://core.telegram.org/bots/api#making-requests); a multipart form with files."""
    if request_data is None:
        return None, None
    if not files:
        return request_data.json_payload, _JSON
    form = aiohttp.FormData(request_data.json_parameters)
    for name, (filename, content, mimetype) in files.items():
        data = content if isinstance(content, bytes) else content.read()
        form.add_field(name, data, filename=filename, content_type=mimetype)
    return form, None
