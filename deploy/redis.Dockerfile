# Redis for the compose test stack (docker-compose.test.yml), from Debian's package on the local
# debootstrap base image: CI machines reach no container registry. Like the official image as
# far as the stack uses it: `redis-server` on PATH (docker-compose.yml passes its options),
# `redis-cli ping` for the healthcheck, running as the unprivileged `redis` user.
ARG BASE_IMAGE=local/debian-python:bookworm
FROM ${BASE_IMAGE}

RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /var/lib/redis
USER redis
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
