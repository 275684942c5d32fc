from django.urls import path

from provisioning.api import views

urlpatterns = [
    path("sandboxes/", views.SandboxListCreate.as_view(), name="api-sandbox-list"),
    path("sandboxes/<int:pk>/", views.SandboxDetail.as_view(), name="api-sandbox-detail"),
    path("sandboxes/<int:pk>/start/", views.SandboxStart.as_view(), name="api-sandbox-start"),
    path("sandboxes/<int:pk>/stop/", views.SandboxStop.as_view(), name="api-sandbox-stop"),
    path("sandboxes/<int:pk>/resize/", views.SandboxResize.as_view(), name="api-sandbox-resize"),
    path("sandboxes/<int:pk>/operations/", views.SandboxOperations.as_view(), name="api-sandbox-operations"),
    path("operations/<int:pk>/", views.OperationDetail.as_view(), name="api-operation-detail"),
    path("hosts/", views.HostListCreate.as_view(), name="api-host-list"),
]
