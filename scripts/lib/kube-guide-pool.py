"""The guide's Kubernetes work pool template, for this machine (make demo and the Go tests).

Run with the Python of the worker's image (it imports prefect_kubernetes):
    python kube-guide-pool.py CPU_DEFAULT API_URL NAMESPACE > base-job-template.json

Starts from prefect-kubernetes' own default base job template, then:
  - the guide: a `cpu_request` variable (default CPU_DEFAULT) wired into the
    container's CPU request;
  - this machine: pods on the host network (there is no pod network), the
    Prefect API URL in every run's env, Jobs in the worker's namespace, and
    images pulled on every run (so each run proves the push).
"""
import json
import sys

from prefect_kubernetes.worker import KubernetesWorker

cpu, api, namespace = sys.argv[1:4]
t = KubernetesWorker.get_default_base_job_template()
props = t["variables"]["properties"]
props["cpu_request"] = {
    "title": "CPU Request",
    "description": "The CPU each flow-run pod requests, in Kubernetes units (e.g. 500m, 1).",
    "type": "string",
    "default": cpu,
}
pod = t["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
container = pod["containers"][0]
container.setdefault("resources", {}).setdefault("requests", {})["cpu"] = "{{ cpu_request }}"
pod["hostNetwork"] = True
props["env"]["default"] = {"PREFECT_API_URL": api}
props["namespace"]["default"] = namespace
props["image_pull_policy"]["default"] = "Always"
json.dump(t, sys.stdout, indent=2)
