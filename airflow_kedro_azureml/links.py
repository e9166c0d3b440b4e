"""Extra link from a task to its Azure ML job in the studio."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperatorLink

JOB_URL_XCOM_KEY = "azureml_job_url"


class AzureMLJobLink(BaseOperatorLink):
    """Opens the task's Azure ML pipeline job in the studio (from the job URL in XCom)."""

    name = "Azure ML job"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        """The job's studio URL, or '' when the task ended before it had a job.

        The worker asks at the end of every task: the operator then knows the URL
        itself (no XCom read, so a task that failed before submitting logs no
        "XCom not found"). Elsewhere, the URL comes from the task's XCom.
        """
        if hasattr(operator, "studio_url"):
            return operator.studio_url or ""
        from airflow.providers.common.compat.sdk import XCom

        url = XCom.get_value(key=JOB_URL_XCOM_KEY, ti_key=ti_key)
        return url or ""
