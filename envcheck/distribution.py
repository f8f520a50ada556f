"""A small client for the OCI distribution API (what ``docker pull`` speaks).

Used by the ``registry:`` image source and by ``envcheck dockerfile
--base-digest``.  It needs no engine: ``/v2/`` ping, manifest and index
negotiation (OCI and Docker v2 media types), blobs streamed with their digest
verified as they pass, and authentication as users already have it —
anonymous, HTTP basic, bearer-token challenges, credentials from the docker
client's ``config.json`` and its credential helpers.

TLS is on by default with the system CA bundle.  Plain HTTP is spoken only
to loopback registries (first, as containerd's resolver does for localhost:
a TLS attempt against a plain-HTTP port on this machine is wasted time; a
loopback port that answers plain HTTP with anything but a registry's answer
is asked again over HTTPS) and, after a failed HTTPS attempt, to registries
the user names as insecure (as dockerd does).  Credentials are only ever
sent after the registry's own challenge.  The HTTP layer is
:mod:`envcheck._http` (``http.client``), imported with this module.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import platform as _platform
import re
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlencode

from envcheck import _regex
from envcheck._http import ConnectError, HttpError, Response, TlsError, Transport
from envcheck.errors import ImageError
from envcheck.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

# A layer is read off the socket in pieces of this size (the image walk's
# fetch thread takes them as they come: see walker._FETCH_CHUNK).
BLOB_CHUNK = 256 * 1024
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_CONFIG_BYTES = 16 * 1024 * 1024
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_DIGEST = _regex.compile(r"^sha256:[0-9a-f]{64}$")
_NAME = _regex.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = _regex.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@record
class RegistryRef:
    host: str  # "127.0.0.1:5000"
    name: str  # "team/app"
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        out = f"{self.host}/{self.name}"
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def parse_registry_ref(text: str) -> RegistryRef:
    """``HOST[:PORT]/NAME[:TAG|@DIGEST]`` — the host part is mandatory, as for skopeo."""
    raw = text.removeprefix("registry:").strip()
    digest = None
    if "@" in raw:
        raw, digest = raw.split("@", 1)
        if not _DIGEST.match(digest):
            raise ImageError(f"invalid digest {digest!r} in image reference {text!r}")
    if "/" not in raw:
        raise ImageError(f"registry reference {text!r} needs a host: registry:HOST[:PORT]/NAME[:TAG]")
    host, rest = raw.split("/", 1)
    tag = None
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        rest, tag = rest.rsplit(":", 1)
        if not _TAG.match(tag):
            raise ImageError(f"invalid tag {tag!r} in image reference {text!r}")
    if not host or not _NAME.match(rest):
        raise ImageError(f"invalid repository name in image reference {text!r}")
    if tag is None and digest is None:
        tag = "latest"
    return RegistryRef(host=host, name=rest, tag=tag, digest=digest)


def is_loopback(host: str) -> bool:
    hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    hostname = hostname.strip("[]")
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------- credentials


@record
class Credentials:
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed
    identity_token: str | None = field(default=None, repr=False)


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def load_credentials(host: str, config_path: Path | None = None) -> Credentials | None:
    """Credentials for ``host`` the way the docker CLI finds them."""
    path = config_path or docker_config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ImageError(f"cannot read docker client config: {type(exc).__name__}", path=str(path)) from None
    if not isinstance(data, dict):
        raise ImageError("docker client config is not a JSON object", path=str(path))
    helpers = data.get("credHelpers") or {}
    helper = helpers.get(host) if isinstance(helpers, dict) else None
    if helper is None and isinstance(data.get("credsStore"), str):
        helper = data["credsStore"]
    if isinstance(helper, str) and helper:
        creds = _from_helper(helper, host)
        if creds is not None:
            return creds
    auths = data.get("auths") or {}
    if not isinstance(auths, dict):
        return None
    for key in (host, f"https://{host}", f"http://{host}", f"https://{host}/v2/", f"https://{host}/v1/"):
        entry = auths.get(key)
        if isinstance(entry, dict):
            return _from_auth_entry(entry, path)
    return None


def _from_auth_entry(entry: Mapping[str, Any], path: Path) -> Credentials | None:
    if isinstance(entry.get("identitytoken"), str):
        return Credentials(identity_token=entry["identitytoken"])
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            user, _, password = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            raise ImageError("an auths entry's 'auth' is not base64 of user:password", path=str(path)) from None
        return Credentials(username=user, password=password)
    if isinstance(entry.get("username"), str):
        return Credentials(username=entry["username"], password=str(entry.get("password", "")))
    return None


def _from_helper(helper: str, host: str) -> Credentials | None:
    # The helper is a program the user installed and configured by name; it
    # is the documented way credentials reach registry clients.
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", helper):
        raise ImageError(f"invalid credential helper name {helper!r} in docker client config")
    try:
        proc = subprocess.run(
            [f"docker-credential-{helper}", "get"],
            input=host,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except FileNotFoundError:
        raise ImageError(f"credential helper docker-credential-{helper} is configured but not installed") from None
    except subprocess.TimeoutExpired:
        raise ImageError(f"credential helper docker-credential-{helper} timed out") from None
    if proc.returncode != 0:
        return None  # "credentials not found": fall back to auths/anonymous
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise ImageError(f"credential helper docker-credential-{helper} returned malformed JSON") from None
    user, secret = data.get("Username"), data.get("Secret")
    if not isinstance(secret, str):
        return None
    if user == "<token>":
        return Credentials(identity_token=secret)
    return Credentials(username=str(user or ""), password=secret)


# --------------------------------------------------------------------------- client


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params = {k.lower(): v for k, v in re.findall(r'(\w+)="([^"]*)"', rest)}
    return scheme.lower(), params


def host_platform() -> tuple[str, str]:
    machine = _platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return "linux", arch


class VerifyingStream:
    """A file-like view of a blob that hashes what passes and checks it at the end.

    Readers (``tarfile`` in stream mode) may stop before EOF; :meth:`finish`
    drains the rest so the digest is always checked before results are used.
    """

    def __init__(self, chunks: Iterator[bytes], digest: str, size: int | None, what: str) -> None:
        self._chunks = chunks
        self._buf = b""
        self._hash = hashlib.sha256()
        self._seen = 0
        self._digest = digest
        self._size = size
        self._what = what
        self._done = False

    def _next_chunk(self) -> bytes:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self._done = True
            self._verify()
            return b""
        except Exception as exc:  # a cut-off body (IncompleteRead), a reset or timed-out socket
            raise ImageError(f"{self._what}: connection lost while reading ({type(exc).__name__})") from None
        self._hash.update(chunk)
        self._seen += len(chunk)
        if self._size is not None and self._seen > self._size:
            raise ImageError(f"{self._what}: more data than the manifest's size {self._size}")
        return chunk

    def read(self, n: int = -1) -> bytes:
        while not self._done and (n < 0 or len(self._buf) < n):
            chunk = self._next_chunk()
            if not chunk:
                break
            self._buf += chunk
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def finish(self) -> None:
        while not self._done:
            self._next_chunk()

    def close(self) -> None:
        self._chunks = iter(())

    def __enter__(self) -> VerifyingStream:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.finish()
        self.close()

    def _verify(self) -> None:
        if self._size is not None and self._seen != self._size:
            raise ImageError(f"{self._what}: got {self._seen} bytes, manifest says {self._size}")
        actual = "sha256:" + self._hash.hexdigest()
        if actual != self._digest:
            raise ImageError(f"{self._what}: content does not match its digest {self._digest}")


class RegistryClient:
    def __init__(
        self,
        ref: RegistryRef,
        *,
        insecure_registries: tuple[str, ...] = (),
        credentials: Credentials | None = None,
        use_docker_config: bool = True,
        retries: int = 4,
        backoff: float = 0.5,
        timeout: float = 30.0,
    ) -> None:
        self.ref = ref
        self._http = Transport(timeout=timeout)
        # The scheme to speak, and the one to try once if it gets no registry's answer.
        self._scheme, self._fallback = "https", "http" if ref.host in insecure_registries else None
        if is_loopback(ref.host):
            self._scheme, self._fallback = "http", "https"
        self._creds = (
            credentials if credentials is not None else (load_credentials(ref.host) if use_docker_config else None)
        )
        self._auth_header: str | None = None
        self._retries = retries
        self._backoff = backoff
        self._pinged = False

    # -- plumbing -------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self._scheme}://{self.ref.host}{path}"

    def _switch_scheme(self) -> None:
        """Speak the fallback scheme from now on; there is no second fallback."""
        self._scheme, self._fallback = self._fallback or self._scheme, None

    def _send(self, method: str, url: str, *, headers: Mapping[str, str] | None = None) -> Response:
        hdrs = dict(headers or {})
        if self._auth_header:
            hdrs["Authorization"] = self._auth_header
        delay = self._backoff
        attempt = 0
        while True:
            try:
                resp = self._http.request(method, url, headers=hdrs)
            except (TlsError, ConnectError) as exc:
                if self._fallback is not None and url.startswith(f"{self._scheme}://{self.ref.host}/"):
                    # Loopback (HTTP, then HTTPS) or explicitly insecure (HTTPS, then
                    # HTTP, like dockerd): the other scheme once. Not a retry: the
                    # attempt count is untouched.
                    old = self._scheme
                    self._switch_scheme()
                    url = url.replace(f"{old}://", f"{self._scheme}://", 1)
                    continue
                if isinstance(exc, TlsError):
                    raise ImageError(
                        f"registry {self.ref.host}: TLS verification failed (use --insecure-registry only for a registry you control)"
                    ) from None
                if attempt < self._retries:
                    attempt += 1
                    time.sleep(delay)
                    delay *= 2
                    continue
                raise ImageError(f"cannot reach registry {self.ref.host}: {_short(exc)}") from None
            except HttpError as exc:
                raise ImageError(f"registry {self.ref.host}: {_short(exc)}") from None
            if resp.status in _RETRY_STATUS and attempt < self._retries:
                attempt += 1
                wait = _retry_after(resp, delay)
                resp.close()
                time.sleep(wait)
                delay *= 2
                continue
            return resp

    def _authenticate(self, resp: Response) -> None:
        challenge = resp.headers.get("WWW-Authenticate", "")
        scheme, params = _parse_challenge(challenge)
        if scheme == "basic":
            if self._creds is None or self._creds.username is None:
                raise ImageError(
                    f"registry {self.ref.host} requires credentials for {self.ref}: run 'docker login {self.ref.host}'"
                )
            self._auth_header = _basic(self._creds.username, self._creds.password or "")
            return
        if scheme == "bearer":
            self._auth_header = f"Bearer {self._fetch_token(params)}"
            return
        raise ImageError(f"registry {self.ref.host}: unsupported authentication challenge {scheme or 'none'!r}")

    def _fetch_token(self, params: Mapping[str, str]) -> str:
        realm = params.get("realm")
        if not realm or not realm.startswith(("https://", "http://")):
            raise ImageError(f"registry {self.ref.host}: bearer challenge without a usable realm")
        query = {"scope": params.get("scope") or f"repository:{self.ref.name}:pull"}
        if params.get("service"):
            query["service"] = params["service"]
        headers: dict[str, str] = {}
        if self._creds is not None and self._creds.username is not None:
            headers["Authorization"] = _basic(self._creds.username, self._creds.password or "")
        try:
            if self._creds is not None and self._creds.identity_token:
                form = {
                    "grant_type": "refresh_token",
                    "refresh_token": self._creds.identity_token,
                    "client_id": "envcheck",
                    **query,
                }
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                resp = self._http.request("POST", realm, headers=headers, body=urlencode(form).encode())
            else:
                sep = "&" if "?" in realm else "?"
                resp = self._http.request("GET", f"{realm}{sep}{urlencode(query)}", headers=headers)
        except HttpError as exc:
            raise ImageError(f"registry {self.ref.host}: token endpoint unreachable ({_short(exc)})") from None
        if resp.status in (401, 403):
            resp.close()
            raise ImageError(f"registry {self.ref.host}: access denied for {self.ref} (check your credentials)")
        if resp.status != 200:
            resp.close()
            raise ImageError(f"registry {self.ref.host}: token endpoint answered HTTP {resp.status}")
        raw = _read_capped(resp, MAX_MANIFEST_BYTES, f"registry {self.ref.host}: token endpoint's answer")
        try:
            body = json.loads(raw)
        except ValueError:
            raise ImageError(f"registry {self.ref.host}: token endpoint returned malformed JSON") from None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ImageError(f"registry {self.ref.host}: token endpoint returned no token")
        return token

    def _request(self, method: str, path: str, *, headers: Mapping[str, str] | None = None) -> Response:
        resp = self._send(method, self._url(path), headers=headers)
        if resp.status == 401:
            resp.close()
            had_auth = self._auth_header is not None
            self._authenticate(resp)
            resp = self._send(method, self._url(path), headers=headers)
            if resp.status == 401:
                resp.close()
                detail = "wrong username or password" if had_auth or self._creds else "authentication required"
                raise ImageError(f"registry {self.ref.host}: {detail} for {self.ref}")
        if resp.status == 403:
            resp.close()
            raise ImageError(f"registry {self.ref.host}: access to {self.ref} denied")
        return resp

    # -- API ------------------------------------------------------------------

    def ping(self) -> None:
        if self._pinged:
            return
        resp = self._request("GET", "/v2/")
        resp.close()
        if resp.status == 400 and self._fallback == "https":
            # A loopback port that speaks TLS answers plain HTTP with 400 ("client sent
            # an HTTP request to an HTTPS server"): the registry is there, over HTTPS.
            self._switch_scheme()
            resp = self._request("GET", "/v2/")
            resp.close()
        if resp.status != 200:
            raise ImageError(f"{self.ref.host} does not speak the registry API (GET /v2/ answered HTTP {resp.status})")
        self._pinged = True

    def fetch_manifest(self, reference: str | None = None) -> tuple[str, str, bytes]:
        """(media type, digest, raw bytes) of a manifest or index, digest verified."""
        self.ping()
        ref = reference or self.ref.reference
        resp = self._request("GET", f"/v2/{self.ref.name}/manifests/{ref}", headers={"Accept": ACCEPT})
        if resp.status == 404:
            resp.close()
            sep = "@" if ref.startswith("sha256:") else ":"
            raise ImageError(f"image {self.ref.host}/{self.ref.name}{sep}{ref} not found in the registry")
        if resp.status != 200:
            resp.close()
            raise ImageError(f"registry {self.ref.host}: manifest request for {self.ref} answered HTTP {resp.status}")
        body = _read_capped(resp, MAX_MANIFEST_BYTES, f"manifest of {self.ref}")
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if ref.startswith("sha256:") and digest != ref:
            raise ImageError(f"manifest of {self.ref}: content does not match its digest {ref}")
        header_digest = resp.headers.get("Docker-Content-Digest")
        if header_digest and _DIGEST.match(header_digest) and header_digest != digest:
            raise ImageError(f"manifest of {self.ref}: content does not match the registry's digest {header_digest}")
        media = resp.headers.get("Content-Type", "").split(";")[0].strip()
        return media, digest, body

    def get_manifest(self, reference: str | None = None) -> tuple[str, str, dict[str, Any]]:
        """(media type, digest, parsed JSON) of a manifest or index, digest verified."""
        header_media, digest, body = self.fetch_manifest(reference)
        try:
            data = json.loads(body)
        except ValueError:
            raise ImageError(f"manifest of {self.ref} is not valid JSON") from None
        if not isinstance(data, dict):
            raise ImageError(f"manifest of {self.ref} is not a JSON object")
        media = str(data.get("mediaType") or header_media)
        if media not in INDEX_TYPES + MANIFEST_TYPES:
            # Schema 1 and artefact manifests carry no image to scan.
            raise ImageError(f"manifest of {self.ref} has unsupported media type {media!r}")
        return media, digest, data

    def resolve_image_manifest(self, platform: str | None = None) -> tuple[str, dict[str, Any]]:
        """The image manifest for one platform, following an index if there is one."""
        media, digest, data = self.get_manifest()
        if media in MANIFEST_TYPES:
            return digest, data
        want_os, want_arch = host_platform()
        want_variant = None
        if platform:
            parts = platform.split("/")
            if len(parts) < 2:
                raise ImageError(f"--platform {platform!r}: expected os/arch[/variant]")
            want_os, want_arch = parts[0], parts[1]
            want_variant = parts[2] if len(parts) > 2 else None
        entries = data.get("manifests")
        if not isinstance(entries, list):
            raise ImageError(f"index of {self.ref} has no manifests list")
        available = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("platform"), dict):
                continue
            plat = entry["platform"]
            available.append(f"{plat.get('os')}/{plat.get('architecture')}")
            if (
                plat.get("os") == want_os
                and plat.get("architecture") == want_arch
                and (want_variant is None or plat.get("variant") == want_variant)
            ):
                child = entry.get("digest")
                if not isinstance(child, str) or not _DIGEST.match(child):
                    raise ImageError(f"index of {self.ref} has an invalid digest")
                child_media, child_digest, child_data = self.get_manifest(child)
                if child_media not in MANIFEST_TYPES:
                    raise ImageError(f"index of {self.ref} points at a nested index, not an image")
                return child_digest, child_data
        raise ImageError(
            f"{self.ref} has no image for {want_os}/{want_arch} (available: {', '.join(sorted(set(available))) or 'none'})"
        )

    def open_blob(self, digest: str, size: int | None, what: str) -> VerifyingStream:
        if not _DIGEST.match(digest):
            raise ImageError(f"{what}: invalid digest {digest!r}")
        resp = self._request("GET", f"/v2/{self.ref.name}/blobs/{digest}")
        if resp.status == 404:
            resp.close()
            raise ImageError(f"{what} {digest} of {self.ref} is missing from the registry")
        if resp.status != 200:
            resp.close()
            raise ImageError(f"registry {self.ref.host}: blob {digest} answered HTTP {resp.status}")
        return VerifyingStream(_chunks(resp), digest, size, what)

    def read_blob(self, digest: str, size: int | None, what: str, limit: int = MAX_CONFIG_BYTES) -> bytes:
        if size is not None and size > limit:
            raise ImageError(f"{what} of {self.ref} is {size} bytes, over the {limit} byte limit")
        stream = self.open_blob(digest, size, what)
        data = b""
        while True:
            chunk = stream.read(1 << 16)
            if not chunk:
                break
            data += chunk
            if len(data) > limit:
                raise ImageError(f"{what} of {self.ref} exceeds the {limit} byte limit")
        stream.finish()
        return data

    def head_digest(self) -> str | None:
        """The manifest digest the registry serves for the reference (for FROM pins)."""
        self.ping()
        resp = self._request("HEAD", f"/v2/{self.ref.name}/manifests/{self.ref.reference}", headers={"Accept": ACCEPT})
        resp.close()
        if resp.status == 404:
            raise ImageError(f"image {self.ref} not found in the registry")
        if resp.status != 200:
            return None
        digest = resp.headers.get("Docker-Content-Digest")
        return digest if digest and _DIGEST.match(digest) else None

    def close(self) -> None:
        self._http.close()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _chunks(resp: Response) -> Iterator[bytes]:
    """A blob's body in the pieces it arrives in; its connection is reused once it is read."""
    try:
        yield from resp.iter_content(BLOB_CHUNK)
    finally:
        resp.close()


def _read_capped(resp: Response, limit: int, what: str) -> bytes:
    data = b""
    try:
        for chunk in resp.iter_content(chunk_size=1 << 16):
            data += chunk
            if len(data) > limit:
                raise ImageError(f"{what} is larger than {limit} bytes")
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(f"{what}: connection lost while reading ({type(exc).__name__})") from None
    finally:
        resp.close()
    return data


def _retry_after(resp: Response, default: float) -> float:
    value = resp.headers.get("Retry-After", "")
    if value.isdigit():
        return min(float(value), 10.0)
    return default


def _short(exc: BaseException) -> str:
    text = str(exc)
    # An OSError's text carries "[Errno N] reason": keep the reason, one line.
    m = re.search(r"\[Errno [^\]]+\] ([^'\")]+)", text)
    return m.group(1).strip() if m else type(exc).__name__


# --------------------------------------------------------------------------- FROM references

# Docker's reference grammar: a first component with a dot or a port, or
# "localhost", is a registry host; otherwise the image lives on Docker Hub,
# whose official images sit under "library/".
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"


def registry_ref_for(image: str) -> RegistryRef:
    """``python:3.11-slim`` / ``ghcr.io/o/app:1`` → the registry reference a pull would use."""
    ref = image.split("@", 1)[0]
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = DOCKER_HUB, ref
        if "/" not in path:
            path = f"library/{path}"
    if host == DOCKER_HUB:
        host = DOCKER_HUB_API
    return parse_registry_ref(f"registry:{host}/{path}")


def resolve_digest(image: str, *, timeout: float = 10.0) -> tuple[str | None, str]:
    """The manifest digest the image's registry serves for ``image``, and why not when it can't."""
    try:
        client = RegistryClient(registry_ref_for(image), retries=0, timeout=timeout)
    except ImageError as exc:
        return None, str(exc)
    try:
        digest = client.head_digest()
    except ImageError as exc:
        return None, str(exc)
    finally:
        client.close()
    return (digest, "") if digest else (None, "the registry sent no Docker-Content-Digest")
