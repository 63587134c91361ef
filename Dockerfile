# cw in a container: `cw serve` as a non-root user on Debian 12 (docs/serve.md "Running it").
#
#   docker build -t cw .
#   docker run -d -p 127.0.0.1:8787:8787 -v cw-state:/var/lib/cw \
#     -v "$PWD/cw.yaml:/etc/cw/cw.yaml:ro" -e CW_SERVE_TOKEN=... -e PLEX_TOKEN=... cw
#
# The server listens on 0.0.0.0 inside the container, so it refuses to start without a token
# ($CW_SERVE_TOKEN) or basic auth: anyone who reaches the port could approve deletions.

# The build: the Debian package of cw (`make package`), built like on any Debian 12 machine.
FROM debian:12 AS build
COPY . /src
WORKDIR /src
RUN bash scripts/install-deps.sh --build \
 && cmake --preset demo -DCW_BUILD_SANDBOX=OFF \
 && cmake --build build/demo -j"$(nproc)" \
 && cd build/demo && cpack -G DEB

# The image: the package with the libraries it depends on (dpkg-shlibdeps), nothing else.
FROM debian:12-slim
COPY --from=build /src/build/demo/cw_*.deb /tmp/
RUN apt-get update \
 && apt-get install -y --no-install-recommends /tmp/cw_*.deb ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/cw_*.deb \
 && useradd --system --uid 10001 --home-dir /var/lib/cw --create-home --shell /usr/sbin/nologin cw \
 && mkdir -p /etc/cw
USER cw
# The default state directory is then /var/lib/cw; OAuth tokens go to /var/lib/cw/tokens.
ENV XDG_STATE_HOME=/var/lib CW_CONFIG_DIR=/var/lib/cw
VOLUME /var/lib/cw
EXPOSE 8787
STOPSIGNAL SIGTERM
ENTRYPOINT ["cw", "--config", "/etc/cw/cw.yaml"]
CMD ["serve", "--listen", "0.0.0.0:8787"]
