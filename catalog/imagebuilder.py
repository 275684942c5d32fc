"""Builds and pushes catalog images on the local Docker engine.

The second, deliberate user of the Docker SDK besides the provisioning driver (DESIGN.md rule 6):
it is limited to image builds and pushes, which are a catalog concern, and nothing else in the
catalog touches the SDK.
"""

from collections import deque
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors
import requests.exceptions

ENGINE_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException, OSError)
LOG_TAIL_LINES = 40
# A RUN step (pip installing torch's neighbours) can print nothing for minutes.
BUILD_TIMEOUT_S = 3600


class ImageBuildFailed(RuntimeError):
    """The build or push failed; `log` holds the last lines the engine printed."""

    def __init__(self, message: str, *, log: str = ""):
        self.log = log
        super().__init__(message)


class ImageBuilder:
    def __init__(self, client: docker.DockerClient):
        self.client = client

    @classmethod
    def for_url(cls, url: str) -> "ImageBuilder":
        try:
            return cls(docker.DockerClient(base_url=url, timeout=BUILD_TIMEOUT_S, version="auto"))
        except ENGINE_ERRORS as exc:
            raise ImageBuildFailed(f"the Docker engine at {url} did not answer: {exc}") from exc

    def image_id(self, ref: str) -> str | None:
        image = self._local(ref)
        return image.id if image else None

    def image_labels(self, ref: str) -> dict[str, str] | None:
        """Labels of the local image `ref`, or None when the engine has no such image."""
        image = self._local(ref)
        return (image.labels or {}) if image else None

    def build(
        self,
        *,
        context: Path,
        tag: str,
        labels: dict[str, str],
        buildargs: dict[str, str],
        on_log: Callable[[str], None] | None = None,
    ) -> str:
        """Build `context` (its Dockerfile) as `tag`; returns the image id."""
        tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        try:
            for chunk in self.client.api.build(
                path=str(context),
                tag=tag,
                labels=labels,
                buildargs=buildargs,
                rm=True,
                forcerm=True,
                pull=False,  # no public registry here: FROM images are local
                decode=True,
            ):
                line = chunk.get("stream") or chunk.get("status") or ""
                if line.strip():
                    tail.append(line.rstrip())
                    if on_log:
                        on_log(line.rstrip())
                if "error" in chunk:
                    raise ImageBuildFailed(
                        f"building {tag} failed: {chunk['error'].strip()}", log=_lines(tail)
                    )
        except ENGINE_ERRORS as exc:
            raise ImageBuildFailed(f"building {tag} failed: {exc}", log=_lines(tail)) from exc
        image_id = self.image_id(tag)
        if image_id is None:
            raise ImageBuildFailed(f"building {tag} ended without an image", log=_lines(tail))
        return image_id

    def push(self, *, ref: str) -> None:
        repository, _, tag = ref.rpartition(":")
        try:
            for chunk in self.client.api.push(repository, tag=tag, stream=True, decode=True):
                if "error" in chunk:
                    raise ImageBuildFailed(f"pushing {ref} failed: {chunk['error'].strip()}")
        except ENGINE_ERRORS as exc:
            raise ImageBuildFailed(f"pushing {ref} failed: {exc}") from exc

    def _local(self, ref: str):
        try:
            return self.client.images.get(ref)
        except docker.errors.ImageNotFound:
            return None
        except ENGINE_ERRORS as exc:
            raise ImageBuildFailed(f"the Docker engine did not answer: {exc}") from exc


def _lines(tail: deque[str]) -> str:
    return "\n".join(tail)
