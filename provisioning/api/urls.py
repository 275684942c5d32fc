from django.urls import path

from provisioning.api import datataps, hosts, jobs, pools, sandboxes

urlpatterns = [
    path("sandboxes/", sandboxes.SandboxListCreate.as_view(), name="api-sandbox-list"),
    path("sandboxes/<int:pk>/", sandboxes.SandboxDetail.as_view(), name="api-sandbox-detail"),
    path("sandboxes/<int:pk>/start/", sandboxes.SandboxStart.as_view(), name="api-sandbox-start"),
    path("sandboxes/<int:pk>/stop/", sandboxes.SandboxStop.as_view(), name="api-sandbox-stop"),
    path("sandboxes/<int:pk>/resize/", sandboxes.SandboxResize.as_view(), name="api-sandbox-resize"),
    path(
        "sandboxes/<int:pk>/operations/", sandboxes.SandboxOperations.as_view(), name="api-sandbox-operations"
    ),
    path("operations/<int:pk>/", sandboxes.OperationDetail.as_view(), name="api-operation-detail"),
    path("sandboxes/<int:pk>/jobs/", jobs.SandboxJobs.as_view(), name="api-sandbox-jobs"),
    path(
        "sandboxes/<int:pk>/jobs/validation/",
        jobs.SandboxValidationJob.as_view(),
        name="api-sandbox-validation-job",
    ),
    path("jobs/<int:pk>/", jobs.JobDetail.as_view(), name="api-job-detail"),
    path("jobs/<int:pk>/cancel/", jobs.JobCancel.as_view(), name="api-job-cancel"),
    path("hosts/", hosts.HostListCreate.as_view(), name="api-host-list"),
    path("hosts/<int:pk>/", hosts.HostDetail.as_view(), name="api-host-detail"),
    path("hosts/<int:pk>/refresh/", hosts.HostRefresh.as_view(), name="api-host-refresh"),
    path("pools/", pools.PoolListSet.as_view(), name="api-pool-list"),
    path("datataps/", datataps.DataTapListCreate.as_view(), name="api-datatap-list"),
    path("datataps/<int:pk>/", datataps.DataTapDetail.as_view(), name="api-datatap-detail"),
    path("datatap-prefixes/", datataps.HostPathPrefixListCreate.as_view(), name="api-datatap-prefix-list"),
    path(
        "datatap-prefixes/<int:pk>/",
        datataps.HostPathPrefixDetail.as_view(),
        name="api-datatap-prefix-detail",
    ),
]
