# syntax=docker/dockerfile:1.7
# The S3-compatible object store of the local cluster: versitygw (Apache-2.0)
# with its posix backend, serving the folder /data over the S3 API (each
# top-level folder is a bucket). It runs as 65532; /data should be a volume.
# Credentials come from the environment: ROOT_ACCESS_KEY_ID and
# ROOT_SECRET_ACCESS_KEY (versitygw's names); the port is 7070.
#
# The build context is the folder tools/s3/provision.sh prints, which holds the
# versitygw binary built from the Go module pinned in tools/s3/go.mod:
#   docker build -f docker/dev/s3.Dockerfile -t modelops.local/s3 "$(tools/s3/provision.sh)"
FROM debian:bookworm-slim
COPY versitygw /usr/local/bin/versitygw
RUN mkdir -p /data && chown 65532:65532 /data
USER 65532:65532
EXPOSE 7070
ENTRYPOINT ["/usr/local/bin/versitygw"]
CMD ["--port", ":7070", "posix", "/data"]
