# Sourced by the Spark role services: writes $SPARK_CONF_DIR/spark-defaults.conf, which every
# Spark process of the node reads (master, worker, a notebook's or a job's driver), with what
# only the running node knows.
# - reverse proxy: the master's UI is reached at <the head's gateway path>spark, and the workers'
#   and applications' UIs through it (a browser reaches no node directly): every node writes its
#   links under that path (SANDBOX_HEAD_GATEWAY_PREFIX, set by the portal; the node's own path
#   without the portal, e.g. `docker run` by hand).
# - master: drivers started on any node (`pyspark`, SparkSession.builder) join the cluster.
# - executor memory: a small flavor's worker (2 GiB) can still hold one executor.
{
    echo "spark.master ${SPARK_MASTER_URL:-spark://head-0:7077}"
    echo "spark.ui.reverseProxy true"
    head_prefix=${SANDBOX_HEAD_GATEWAY_PREFIX:-$SANDBOX_GATEWAY_PREFIX}
    echo "spark.ui.reverseProxyUrl ${head_prefix%/}/spark"
    echo "spark.executor.memory 512m"
} > "$SPARK_CONF_DIR/spark-defaults.conf"
