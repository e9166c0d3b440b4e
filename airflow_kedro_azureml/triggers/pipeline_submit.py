"""KedroAzureMLSubmitTrigger: watch a task group's job from the triggerer and publish its state.

``AzureMLJobTrigger`` with one addition: after each look at the job (and with its end
state, failed steps' errors included) it publishes the job's state to the submit
task's XCom ``azureml_job_state``, as the submit task does when it watches in the
worker. The group's step tasks read only that, so the deferred submit task stays the
one watcher of the job.
"""

from __future__ import annotations

import asyncio
from typing import Any

from airflow_kedro_azureml.published_job import JOB_STATE_XCOM_KEY, JobStatePublisher
from airflow_kedro_azureml.statuses import JobState
from airflow_kedro_azureml.triggers.azureml_job import AzureMLJobTrigger


class KedroAzureMLSubmitTrigger(AzureMLJobTrigger):
    """Poll the group's job until it ends, publishing its state for the step tasks.

    :param publish_to: ``dag_id``, ``run_id``, ``task_id`` and ``map_index`` of the
        submit task whose XCom receives the state.
    Every other argument is ``AzureMLJobTrigger``'s.
    """

    def __init__(self, *, publish_to: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.publish_to = publish_to
        self._publisher: JobStatePublisher | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and arguments, to rebuild the trigger in the triggerer."""
        _, kwargs = super().serialize()
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {**kwargs, "publish_to": self.publish_to},
        )

    async def _seen(self, state: JobState) -> None:
        if self._publisher is None:
            self._publisher = JobStatePublisher(
                self._push, backend="azure", workspace=self.workspace
            )
        try:
            await asyncio.to_thread(self._publisher.publish, state)
        except Exception as error:  # the next look publishes again; never end the watch
            self.log.warning("Could not publish the state of %s: %s", self.job_name, error)

    def _push(self, value: dict[str, Any]) -> None:
        from airflow.providers.common.compat.sdk import XCom

        XCom.set(
            key=JOB_STATE_XCOM_KEY,
            value=value,
            dag_id=self.publish_to["dag_id"],
            task_id=self.publish_to["task_id"],
            run_id=self.publish_to["run_id"],
            map_index=self.publish_to.get("map_index", -1),
        )
