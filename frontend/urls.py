from django.contrib.auth import views as auth_views
from django.urls import path

from frontend.views import dashboard, datataps, hosts, jobs, notebooks, queue, sandboxes, usage

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", dashboard.dashboard, name="dashboard"),
    path("sandboxes/", sandboxes.sandbox_list_page, name="sandbox-list"),
    path("sandboxes/new/", sandboxes.sandbox_launch_page, name="sandbox-launch"),
    path("sandboxes/new/check/", sandboxes.sandbox_launch_check_page, name="sandbox-launch-check"),
    path("sandboxes/<int:pk>/", sandboxes.sandbox_detail_page, name="sandbox-detail"),
    path("sandboxes/<int:pk>/stop/", sandboxes.sandbox_stop_page, name="sandbox-stop"),
    path("sandboxes/<int:pk>/start/", sandboxes.sandbox_start_page, name="sandbox-start"),
    path("sandboxes/<int:pk>/resize/", sandboxes.sandbox_resize_page, name="sandbox-resize"),
    path("sandboxes/<int:pk>/delete/", sandboxes.sandbox_delete_page, name="sandbox-delete"),
    path("sandboxes/<int:pk>/logs/", sandboxes.node_logs_page, name="sandbox-logs"),
    path("sandboxes/<int:pk>/jupyter/", notebooks.notebook_open_page, name="notebook-open"),
    path("sandboxes/<int:pk>/jobs/", jobs.sandbox_jobs_panel, name="sandbox-jobs"),
    path("sandboxes/<int:pk>/jobs/run/", jobs.job_run_page, name="job-run"),
    path("sandboxes/<int:pk>/jobs/validate/", jobs.job_validate_page, name="job-validate"),
    path("jobs/<int:pk>/", jobs.job_detail_page, name="job-detail"),
    path("jobs/<int:pk>/cancel/", jobs.job_cancel_page, name="job-cancel"),
    path("hosts/", hosts.host_list_page, name="host-list"),
    path("queue/", queue.queue_page, name="queue"),
    path("hosts/new/", hosts.host_add_page, name="host-add"),
    path("hosts/<int:pk>/state/", hosts.host_state_page, name="host-state"),
    path("usage/", usage.usage_page, name="usage"),
    path("datataps/", datataps.datatap_list_page, name="datatap-list"),
    path("datataps/new/", datataps.datatap_create_page, name="datatap-create"),
    path("datataps/<int:pk>/delete/", datataps.datatap_delete_page, name="datatap-delete"),
    path("datataps/prefixes/", datataps.hostpath_prefix_list_page, name="datatap-prefix-list"),
    path(
        "datataps/prefixes/<int:pk>/delete/",
        datataps.hostpath_prefix_delete_page,
        name="datatap-prefix-delete",
    ),
]
