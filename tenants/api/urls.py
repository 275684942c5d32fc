from django.urls import path

from tenants.api.audit import AuditListApi
from tenants.api.members import MemberDetailApi, MemberListApi
from tenants.api.tenants import TenantListApi
from tenants.api.tokens import AuthTokenApi, TokenDetailApi, TokenListApi
from tenants.api.usage import UsageApi

urlpatterns = [
    path("auth/token/", AuthTokenApi.as_view(), name="api-auth-token"),
    path("tenants/", TenantListApi.as_view(), name="api-tenant-list"),
    path("tenants/<slug:slug>/members/", MemberListApi.as_view(), name="api-member-list"),
    path("tenants/<slug:slug>/members/<str:username>/", MemberDetailApi.as_view(), name="api-member-detail"),
    path("tokens/", TokenListApi.as_view(), name="api-token-list"),
    path("tokens/<int:pk>/", TokenDetailApi.as_view(), name="api-token-detail"),
    path("audit/", AuditListApi.as_view(), name="api-audit-list"),
    path("usage/", UsageApi.as_view(), name="api-usage"),
]
