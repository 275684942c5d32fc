"""Celery tasks of identity: the services do the work."""

from celery import shared_task

from identity.services.deprovisioning import directory_accounts_check as check_directory_accounts


@shared_task(ignore_result=True)
def directory_accounts_check() -> list[str]:
    return check_directory_accounts()
