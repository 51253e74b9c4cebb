# PostgreSQL for the compose test stack (docker-compose.test.yml), from Debian's packages on the
# local debootstrap base image: CI machines reach no container registry. It behaves like the
# official postgres image as far as the stack uses it: POSTGRES_DB/USER/PASSWORD initialise an
# empty data directory at $PGDATA, and `pg_isready` answers the healthcheck.
ARG BASE_IMAGE=local/debian-python:bookworm
FROM ${BASE_IMAGE}

RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 \
    && pg_dropcluster --stop 15 main \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql

ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
USER postgres
EXPOSE 5432
# Fast shutdown, like the official image: open sessions are ended, no waiting for clients.
STOPSIGNAL SIGINT
ENTRYPOINT ["postgres-entrypoint.sh"]
CMD ["postgres"]
