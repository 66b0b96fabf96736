# Builds the project in the current directory with prefect-docker 0.7.4's
# build_docker_image (dockerfile: auto) on DOCKER_HOST and prints the
# image id, for the comparison with prefectctl's build.
import sys

from prefect_docker.deployments.steps import build_docker_image

out = build_docker_image(
    image_name=sys.argv[1], tag=sys.argv[2], dockerfile="auto",
    pull=False, platform="linux/amd64", ignore_cache=True,
)
sys.stderr.flush()
print("IMAGE_ID=" + out["image_id"])
