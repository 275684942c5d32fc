# Sourced by the Spark role services: writes $SPARK_CONF_DIR/spark-defaults.conf, which every
# Spark process of the node reads (master, worker, a notebook's or a job's driver), with what
# only the running node knows.
# - reverse proxy: the master's UI is reached at ${SANDBOX_GATEWAY_PREFIX}spark on the head, and
#   links to workers' and applications' UIs go through it (a browser reaches no node directly).
# - master: drivers started on any node (`pyspark`, SparkSession.builder) join the cluster.
# - executor memory: a small flavor's worker (2 GiB) can still hold one executor.
{
    echo "spark.master ${SPARK_MASTER_URL:-spark://head-0:7077}"
    echo "spark.ui.reverseProxy true"
    if [ "${SANDBOX_ROLE:-head}" = head ]; then
        echo "spark.ui.reverseProxyUrl ${SANDBOX_GATEWAY_PREFIX%/}/spark"
    fi
    echo "spark.executor.memory 512m"
} > "$SPARK_CONF_DIR/spark-defaults.conf"
