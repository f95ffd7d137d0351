# Catalog Sync in serve mode: the web UI and JSON API (`catalog-sync serve`) in a container.
#   docker build -t catalog-sync .
#   docker run -d --name catalog-sync -p 8750:8750 \
#     -v catalog-sync-config:/config -v /srv/podcasts:/downloads catalog-sync
#   docker logs catalog-sync     # the login URL of the first start (its token is in /config)
# Multi-stage: the UI is built with Node, the binary with Rust (the UI embedded); the final
# image has the binary, CA certificates, yt-dlp's Python and curl for the health check, and
# runs as an unprivileged user.

# --- the web UI ---------------------------------------------------------------------------------
FROM node:22-bookworm-slim AS ui
WORKDIR /src/ui
COPY ui/package.json ui/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY ui/ ./
RUN npm run build

# --- the binary (UI embedded) -------------------------------------------------------------------
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=ui /src/ui/dist ui/dist
RUN cargo build --release --locked -p catalog-sync-cli --features serve \
    && install -m 0755 target/release/catalog-sync /usr/local/bin/catalog-sync

# --- the image ----------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl python3 yt-dlp \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /config --shell /usr/sbin/nologin catalog-sync \
    && mkdir -p /config /downloads \
    && chown catalog-sync:catalog-sync /config /downloads
COPY --from=build /usr/local/bin/catalog-sync /usr/local/bin/catalog-sync

# Settings, token and catalog in /config; downloads in /downloads. In a container the server
# listens on every interface of its own network namespace: block_private_addresses is then on
# by default (feeds on the LAN: set allowed_private_hosts in /config/config.toml).
ENV CATALOG_SYNC_CONFIG=/config/config.toml \
    CATALOG_SYNC_DATABASE=/config/catalog.redb \
    CATALOG_SYNC_LIBRARY=/downloads \
    CATALOG_SYNC_LISTEN=0.0.0.0:8750 \
    HOME=/config
VOLUME ["/config", "/downloads"]
EXPOSE 8750
USER catalog-sync
# /api/health is the one unauthenticated route besides the login. `localhost` passes the
# server's Host check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS http://localhost:8750/api/health || exit 1
# SIGTERM (docker stop) stops transfers gracefully; partial files resume at the next start.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/catalog-sync"]
CMD ["serve"]
