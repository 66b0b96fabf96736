# The prefectctl image for CI jobs: nothing but the static binary and CA
# certificates (for HTTPS to Prefect Cloud and registries), run as a
# non-root user. Build it with `make image`, which prepares the context
# (bin/image: prefectctl built with CGO_ENABLED=0, ca-certificates.crt, tmp/).
FROM scratch
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --chown=65532:65532 tmp/ /tmp/
COPY prefectctl /usr/local/bin/prefectctl
# HOME holds ~/.prefect (profiles) and ~/.docker; /tmp is the one writable place.
ENV HOME=/tmp PATH=/usr/local/bin
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/prefectctl"]
CMD ["--help"]
