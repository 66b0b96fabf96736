"""Oracle for internal/jobtemplate: renders each case with the real worker code
(prefect 3.9.1, prefect-kubernetes 0.8.0, prefect-docker 0.7.4, as installed in
the test base image) and prints the documents as JSON.

stdin: {"settings": {PREFECT_*: value}, "cases": [case...]}; each case has
pool_type, base_job_template (null: the worker type's default), deployment,
flow, flow_run (id, name, flow_id, deployment_id, job_variables), worker_name,
worker_id. stdout: [{"document": ..., "default_template": ...}, ...].
"""
import asyncio
import json
import os
import sys
import uuid
from datetime import datetime

cfg = json.load(sys.stdin)
for k in [k for k in os.environ if k.startswith("PREFECT_")]:
    del os.environ[k]
os.environ.update(cfg["settings"])

from prefect.client.schemas.objects import Flow, FlowRun, WorkPool  # noqa: E402
from prefect.client.schemas.responses import DeploymentResponse  # noqa: E402
from prefect_docker.worker import DockerWorker  # noqa: E402
from prefect_kubernetes.worker import KubernetesWorker  # noqa: E402

WORKERS = {"kubernetes": KubernetesWorker, "docker": DockerWorker}


class FakeClient:
    """What resolve_for_flow_run reads: the deployment and the flow."""

    def __init__(self, deployment, flow):
        self.deployment, self.flow = deployment, flow

    async def read_deployment(self, _id):
        return self.deployment

    async def read_flow(self, _id):
        return self.flow


class FakeDocker:
    def version(self):
        return {"Version": "20.10.24"}


async def render(case):
    worker = WORKERS[case["pool_type"]]
    tmpl = case.get("base_job_template") or worker.get_default_base_job_template()
    d = case["deployment"]
    deployment = DeploymentResponse(
        id=d["id"], name=d["name"], flow_id=d["flow_id"], updated=datetime.fromisoformat(d["updated"]),
        job_variables=d.get("job_variables") or {},
    )
    flow = Flow(id=case["flow"]["id"], name=case["flow"]["name"])
    fr = case["flow_run"]
    flow_run = FlowRun(id=fr["id"], name=fr["name"], flow_id=fr["flow_id"], deployment_id=fr["deployment_id"],
                       job_variables=fr.get("job_variables") or {})
    pool = WorkPool(id=case["pool"]["id"], name=case["pool"]["name"], type=case["pool_type"], base_job_template=tmpl)
    conf = await worker.job_configuration.resolve_for_flow_run(
        flow_run, client=FakeClient(deployment, flow), work_pool=pool,
        worker_name=case["worker_name"], worker_id=uuid.UUID(case["worker_id"]),
    )
    if case["pool_type"] == "kubernetes":
        doc = conf.job_manifest
    else:
        doc = DockerWorker._build_container_settings(None, FakeDocker(), conf)
    return {"document": doc, "default_template": worker.get_default_base_job_template()}


async def main():
    out = [await render(c) for c in cfg["cases"]]
    json.dump(out, sys.stdout, default=str)


asyncio.run(main())
