"""GPU inventory from NVML. The NVML library only sees the GPUs of the machine it runs on, so
this reports the local machine's GPUs; it is used for engines on this machine."""

import pynvml


def gpu_inventory() -> list[dict]:
    """index, uuid, model and memory of each GPU; [] where there is no NVIDIA driver."""
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return []
    try:
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            gpus.append(
                {
                    "index": index,
                    "uuid": _text(pynvml.nvmlDeviceGetUUID(handle)),
                    "model": _text(pynvml.nvmlDeviceGetName(handle)),
                    "memory_mib": pynvml.nvmlDeviceGetMemoryInfo(handle).total // (1024 * 1024),
                }
            )
        return gpus
    finally:
        pynvml.nvmlShutdown()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def gpu_readings() -> list[dict]:
    """uuid, utilisation (percent of the last sample period) and memory used and total (bytes)
    of each GPU, for /metrics; [] where there is no NVIDIA driver. A GPU that cannot report
    (e.g. not supported in its mode) is left out rather than reported as idle."""
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return []
    try:
        readings = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            try:
                handle = pynvml.nvmlDeviceGetHandleByIndex(index)
                memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
                readings.append(
                    {
                        "index": index,
                        "uuid": _text(pynvml.nvmlDeviceGetUUID(handle)),
                        "utilization_percent": pynvml.nvmlDeviceGetUtilizationRates(handle).gpu,
                        "memory_used_bytes": memory.used,
                        "memory_total_bytes": memory.total,
                    }
                )
            except pynvml.NVMLError:
                continue
        return readings
    finally:
        pynvml.nvmlShutdown()
