"""The floor: `docker run -d` of the image, `count` at once, each probed until Jupyter answers
(bench/probe.py). Seconds from the first run call until the last one answers."""

import time
from concurrent.futures import ThreadPoolExecutor

from bench import cpu
from bench.probe import direct_session, jupyter_api_url, wait_until_answers

TIMEOUT_S = 600
JUPYTER_PORT = 8888


def raw_docker_run(client, *, image: str, count: int, tag: str) -> float:
    names = [f"bench-raw-{tag}-{i}" for i in range(count)]
    started = time.monotonic()
    deadline = started + TIMEOUT_S

    def run(name: str) -> float:
        container = client.containers.run(image, name=name, detach=True)
        ip = ""
        while not ip:
            ip = client.api.inspect_container(container.id)["NetworkSettings"]["IPAddress"]
        url = jupyter_api_url(f"http://{ip}:{JUPYTER_PORT}/lab")
        return wait_until_answers(direct_session(), url, deadline=deadline)

    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            answered = list(pool.map(run, names))
        cpu.answered()
        return max(answered) - started
    finally:
        for name in names:
            client.api.remove_container(name, force=True)
