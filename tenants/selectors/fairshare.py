"""Each tenant's recent use of the site, for the launch queue's fair-share factor.

Use is read from the quota ledger, like accounting: every allocation counts `cpus + GPU_WEIGHT x
gpus` (Slurm's TRES billing, with a GPU worth GPU_WEIGHT cores) per second held, each second
weighted by 2 ** (-age / half_life) (Slurm's PriorityDecayHalfLife). Reservations that wait in
the queue (marked `queued`) are not use. The integral of the weight over an interval held from
`s` to `e` seconds ago is H / ln 2 x (2 ** (-e/H) - 2 ** (-s/H)), so the database sums it in one
query; intervals that ended more than MEMORY half-lives ago weigh under 0.1 % and are skipped.
"""

import math
from datetime import datetime, timedelta

from django.db import connection

#: One GPU weighs as much as this many cores in fair share.
GPU_WEIGHT = 8
#: Half-lives after which an ended interval is forgotten (2 ** -10 < 0.001).
MEMORY = 10


def tenant_decayed_usage(*, now: datetime, half_life: timedelta) -> dict[str, float]:
    """Decayed billing-seconds per tenant slug; tenants with no use are absent."""
    h = half_life.total_seconds()
    with connection.cursor() as cursor:
        cursor.execute(
            _USAGE_SQL,
            {"now": now, "h": h, "gpu": GPU_WEIGHT, "k": h / math.log(2), "since": now - MEMORY * half_life},
        )
        return {slug: float(amount) for slug, amount in cursor.fetchall() if amount}


_USAGE_SQL = """
SELECT t.slug,
       SUM((a.cpus + %(gpu)s * a.gpus) * %(k)s * (
           power(2, -GREATEST(EXTRACT(EPOCH FROM %(now)s - COALESCE(a.ended, %(now)s)), 0) / %(h)s)
         - power(2, -GREATEST(EXTRACT(EPOCH FROM %(now)s - a.started), 0) / %(h)s)))
FROM tenants_allocation a
JOIN tenants_tenant t ON t.id = a.tenant_id
WHERE (a.ended IS NULL OR a.ended > %(since)s)
  AND a.started < %(now)s
  AND NOT (a.attributes ? 'queued')
GROUP BY t.slug
"""
