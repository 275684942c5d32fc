"""Client of the platform's image registry (Docker Registry HTTP API v2).

Hosts pull catalog images from this registry, so "is the image there, and which build is it"
is asked of the registry itself, not of whichever engine happened to build it. Pushes are the
engine's (catalog.imagebuilder); the only write here is the deletion of an old version's
manifest (the registry runs with `storage.delete.enabled`, deploy/registry.sh).
"""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message

from common.errors import Unavailable

MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)
INDEX_TYPES = MANIFEST_TYPES[2:]


class RegistryUnavailable(Unavailable):
    """The registry did not answer, or answered something other than the API."""


@dataclass
class RegistryClient:
    address: str  # host:port, as in settings.IMAGE_REGISTRY
    timeout_s: float = 10

    def has_image(self, *, slug: str, version: str) -> bool:
        return self._manifest(slug, version) is not None

    def image_labels(self, *, slug: str, version: str) -> dict[str, str] | None:
        """The labels of `<slug>:<version>` in the registry, or None when the tag is not there."""
        manifest = self._manifest(slug, version)
        if manifest is None:
            return None
        if manifest.get("mediaType") in INDEX_TYPES:
            manifest = self._get_json(f"/v2/{slug}/manifests/{manifest['manifests'][0]['digest']}")
        config = self._get_json(f"/v2/{slug}/blobs/{manifest['config']['digest']}")
        return (config or {}).get("config", {}).get("Labels") or {}

    def tags(self, *, slug: str) -> list[str]:
        """The tags of repository `slug`, sorted; none when the registry has no such repository."""
        listing = self._get_json(f"/v2/{slug}/tags/list")
        return sorted((listing or {}).get("tags") or [])

    def digest(self, *, slug: str, version: str) -> str | None:
        """The manifest digest `<slug>:<version>` names, or None when the tag is not there."""
        response = self._request(f"/v2/{slug}/manifests/{version}", method="HEAD")
        return None if response is None else response.headers.get("Docker-Content-Digest")

    def delete(self, *, slug: str, digest: str) -> bool:
        """Delete the manifest `digest` of repository `slug`, and so every tag naming it; the
        layers stay on disk until the registry's garbage collection. Says whether it was there."""
        return self._request(f"/v2/{slug}/manifests/{digest}", method="DELETE") is not None

    def _manifest(self, slug: str, version: str) -> dict | None:
        return self._get_json(f"/v2/{slug}/manifests/{version}")

    def _get_json(self, path: str) -> dict | None:
        response = self._request(path, method="GET")
        return None if response is None else response.body

    def _request(self, path: str, *, method: str) -> "_Response | None":
        """The answer to `method path`, None for a 404; RegistryUnavailable for anything else
        that is not a success."""
        request = urllib.request.Request(  # noqa: S310 - the URL is always http://<registry>/v2/...
            f"http://{self.address}{path}", method=method, headers={"Accept": ", ".join(MANIFEST_TYPES)}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                body = json.load(response) if method == "GET" else None
                return _Response(headers=response.headers, body=body)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise RegistryUnavailable(
                f"registry {self.address} answered {exc.code} for {method} {path}"
            ) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RegistryUnavailable(f"registry {self.address} did not answer: {exc}") from exc


@dataclass(frozen=True)
class _Response:
    headers: Message  # case-insensitive, as HTTP headers are
    body: dict | None
