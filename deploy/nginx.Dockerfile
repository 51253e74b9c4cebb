# nginx for the compose test stack (docker-compose.test.yml), from Debian's package on the local
# debootstrap base image. Like the official image: configuration from /etc/nginx/conf.d/*.conf
# (deploy/nginx.conf is mounted there), logs on stdout/stderr, foreground master process.
ARG BASE_IMAGE=local/debian-python:bookworm
FROM ${BASE_IMAGE}

RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log

EXPOSE 8000
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
