"""Starting and stopping demo servers (DESIGN §7): a stand-in Plex Media Server (+ plex.tv) or Jellyfin on
loopback, over real HTTP, with a synthetic deterministic library and run-time fault injection.

``start_demo_server`` serves in a daemon thread and returns once the socket listens; ``serve_forever`` is the
foreground form for the command line. Raises ``DemoConfigError`` for a bad config or fault spec and
``DemoListenError`` when the address cannot be bound.
"""

from __future__ import annotations

import signal
import ssl
import sys
import threading
from dataclasses import dataclass
from types import FrameType, TracebackType

from app.demo.context import DemoContext
from app.demo.edits import LibraryEdits
from app.demo.errors import DemoConfigError, DemoListenError
from app.demo.faults import FaultRule, FaultState, parse_faults
from app.demo.hostile import OtherHost
from app.demo.jellyfin import JellyfinApp
from app.demo.jellyfin_signin import DiscoveryResponder
from app.demo.library import DemoLibrary
from app.demo.plex import PlexApp
from app.demo.transport import DemoApp, DemoHTTPServer

DEFAULT_PLEX_TOKEN = "demo-plex-token"
DEFAULT_JELLYFIN_API_KEY = "demo-jellyfin-key"
DEFAULT_JELLYFIN_USER = "admin"
DEFAULT_JELLYFIN_PASSWORD = "demo-password"


@dataclass
class DemoConfig:
    kind: str  # "plex" | "jellyfin"
    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port
    tracks: int = 1000  # total tracks over all music libraries (0..1_000_000)
    users: int = 5
    token: str | None = None  # Plex token / Jellyfin API key; None = the DEFAULT above
    password: str = (
        DEFAULT_JELLYFIN_PASSWORD  # Jellyfin admin password (user DEFAULT_JELLYFIN_USER); plex.tv sign-in
    )
    seed: int = 1
    faults: str = ""  # fault spec, see app.demo.faults
    libraries: int = 2  # music libraries; tracks split among them (first gets the remainder)
    discovery_port: int = 0  # Jellyfin: the UDP port answering LAN discovery (0 = a free one)
    tls_cert: str = ""  # with tls_key: serve https with this certificate (PEM file paths)
    tls_key: str = ""
    # Plex: more connections the demo plex.tv lists for this server, as (local|remote|relay, uri)
    extra_connections: tuple[tuple[str, str], ...] = ()
    quick_connect_approve_after_polls: int = (
        0  # Jellyfin: Quick Connect approves itself after this many polls
    )
    pin_approve_after_polls: int = 0  # Plex: plex.tv approves a sign-in PIN after this many polls (0 = never)

    @property
    def effective_token(self) -> str:
        if self.token:
            return self.token
        return DEFAULT_PLEX_TOKEN if self.kind == "plex" else DEFAULT_JELLYFIN_API_KEY


class DemoServer:
    """A running demo server. Thread-safe: ``set_faults`` and ``stop`` may be called from any thread."""

    def __init__(self, config: DemoConfig) -> None:
        if config.kind not in ("plex", "jellyfin"):
            raise DemoConfigError(
                f"Unknown demo server kind {config.kind!r}.", remedy="Use plex or jellyfin."
            )
        self.config = config
        self.library = DemoLibrary(config.kind, config.seed, config.tracks, config.libraries, config.users)
        self._faults = FaultState()
        self._faults.replace(parse_faults(config.faults))
        name = "Zondarr Demo Plex" if config.kind == "plex" else "Zondarr Demo Jellyfin"
        self._ctx = DemoContext(self.library, config.effective_token, config.password, name, config.host)
        self._ctx.pin_approve_after_polls = config.pin_approve_after_polls
        self._ctx.identity_changed = self._faults.identity_change_active
        self._ctx.set_faults = self.set_faults
        app: DemoApp = PlexApp(self._ctx) if config.kind == "plex" else JellyfinApp(self._ctx)
        if isinstance(app, JellyfinApp):
            app.signin.approve_after_polls = config.quick_connect_approve_after_polls
        try:
            self._httpd = DemoHTTPServer((config.host, config.port), app, self._faults)
        except OSError as exc:
            raise DemoListenError(
                f"The demo server could not listen on {config.host}:{config.port}.",
                remedy="Pick another port (or 0 for a free one) and try again.",
                detail=f"{type(exc).__name__}: {exc}",
            ) from exc
        self._httpd.clock = lambda: self._ctx.edits.clock()  # one clock for the Date header and edit times
        self._ctx.port = self._httpd.server_address[1]
        self._ctx.extra_connections = tuple(config.extra_connections)
        if config.tls_cert and config.tls_key:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(config.tls_cert, config.tls_key)
            # the handshake happens on the handler's thread at its first read, never in the accept loop
            self._httpd.socket = tls.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False
            )
            self._ctx.scheme = "https"
        # Jellyfin answers LAN discovery on a UDP port of its own (7359 on a real server; a free one here)
        self._discovery = (
            DiscoveryResponder(self._ctx, config.host, config.discovery_port)
            if config.kind == "jellyfin"
            else None
        )
        self.discovery_port = self._discovery.port if self._discovery else None
        self.url = self._ctx.url
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"demo-{config.kind}",
            daemon=True,
        )
        self._stopped = False
        self._other: OtherHost | None = None
        self._start_other_host_if_needed()

    def _start_other_host_if_needed(self) -> None:
        """The redirect-post fault points at a second listener; it runs only once such a rule is set."""
        if self._other is None and any(r.fault == "redirect-post" for r in self._faults.rules):
            self._other = OtherHost(self.config.host, lambda: self.machine_id)
            self._httpd.other_url = self._other.url

    @property
    def other_host(self) -> OtherHost | None:
        """The "other host" redirect-post sends requests to (what it received is in ``.received``), or None."""
        return self._other

    def _start(self) -> None:
        self._thread.start()
        if self._discovery is not None:
            self._discovery.start()

    @property
    def machine_id(self) -> str:
        """The identity the server answers now (changed while an identity-change fault is active)."""
        return self._ctx.identity(self._faults.identity_change_active())

    @property
    def edits(self) -> LibraryEdits:
        """The library's edits (tests edit in-process; other processes POST to /zondarr-demo/edit)."""
        return self._ctx.edits

    @property
    def requests_served(self) -> int:
        return self._httpd.served

    @property
    def recent_headers(self) -> list[dict[str, str]]:
        """The headers (keys lower-cased) of the most recent requests, oldest first (at most 2,000)."""
        return list(self._httpd.recent_headers)

    @property
    def fault_rules(self) -> list[FaultRule]:
        return list(self._faults.rules)

    def set_faults(self, spec: str) -> None:
        """Replaces the active faults (COUNT budgets restart). Raises DemoConfigError for a bad spec."""
        self._faults.replace(parse_faults(spec))
        self._start_other_host_if_needed()

    def stop(self) -> None:
        """Stops serving, wakes every handler (timeouts, drips, keep-alive), closes the socket, joins the thread."""
        if self._stopped:
            return
        self._stopped = True
        if self._discovery is not None:
            self._discovery.stop()
        self._httpd.close_connections()
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=10)
        self._httpd.server_close()
        if self._other is not None:
            self._other.stop()

    def __enter__(self) -> DemoServer:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_demo_server(config: DemoConfig) -> DemoServer:
    """Builds the library, binds the socket and serves in a daemon thread; returns once listening."""
    server = DemoServer(config)
    server._start()
    return server


def banner(server: DemoServer) -> str:
    """The one line ``serve_forever`` prints (demo credentials only)."""
    cfg = server.config
    token = cfg.effective_token
    if cfg.kind == "plex":
        return f"demo plex server on {server.url} token={token} tracks={cfg.tracks}"
    return (
        f"demo jellyfin server on {server.url} api_key={token} user={DEFAULT_JELLYFIN_USER} "
        f"password={cfg.password} tracks={cfg.tracks}"
    )


def serve_forever(config: DemoConfig) -> int:
    """Foreground serving for the CLI (main thread): prints one line, serves until SIGINT/SIGTERM, returns 0."""
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with start_demo_server(config) as server:
            print(banner(server), flush=True)
            while not done.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.stdout.flush()
    return 0
