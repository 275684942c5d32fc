from django.urls import path

from serving.api import views

urlpatterns = [
    path("endpoints/", views.EndpointListCreate.as_view(), name="api-endpoint-list"),
    path("endpoints/<int:pk>/", views.EndpointDetail.as_view(), name="api-endpoint-detail"),
    path("endpoints/<int:pk>/keys/", views.EndpointKeys.as_view(), name="api-endpoint-keys"),
    path("endpoints/<int:pk>/keys/<int:key_id>/", views.EndpointKeyRevoke.as_view(), name="api-endpoint-key"),
]
