from django.urls import path

from identity.api.group_mappings import GroupMappingDetailApi, GroupMappingListApi
from identity.api.users import UserDetailApi, UserListApi

urlpatterns = [
    path("users/", UserListApi.as_view(), name="api-user-list"),
    path("users/<int:pk>/", UserDetailApi.as_view(), name="api-user-detail"),
    path("group-mappings/", GroupMappingListApi.as_view(), name="api-group-mapping-list"),
    path("group-mappings/<int:pk>/", GroupMappingDetailApi.as_view(), name="api-group-mapping-detail"),
]
