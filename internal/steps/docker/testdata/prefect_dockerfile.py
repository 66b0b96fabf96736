# Prints the Dockerfile prefect-docker's build_docker_image generates for
# `dockerfile: auto` in the current directory, without building: the
# docker-py build is replaced by a function that captures the file.
import sys

import prefect_docker.deployments.steps as steps


class Captured(Exception):
    pass


def capture(image_name, dockerfile, tag, auto_build, build_kwargs):
    with open(dockerfile) as f:
        sys.stdout.write(f.read())
    raise Captured()


steps._build_docker_image_docker_py = capture
try:
    steps.build_docker_image(image_name="prefectctl-compare", dockerfile="auto", ignore_cache=True)
except Captured:
    pass
