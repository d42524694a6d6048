# Multi-stage image of the statuswatch binary with the built SPA.
FROM node:20-bookworm-slim AS spa
WORKDIR /src/static
COPY static/package.json static/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY static/ ./
RUN npm run build

FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends cmake pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The production profile: fat LTO, one codegen unit (bench/README.md).
RUN cargo build --profile production --locked --bin statuswatch

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/statuswatch --create-home statuswatch
COPY --from=build /src/target/production/statuswatch /usr/local/bin/statuswatch
COPY --from=spa /src/static/dist /usr/share/statuswatch/static
ENV STATUSWATCH__EDGE__STATIC_ROOT=/usr/share/statuswatch/static
USER statuswatch
WORKDIR /var/lib/statuswatch
# `serve`'s readiness; compose gives each single role its own check.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
    CMD ["statuswatch", "probe", "http://127.0.0.1:8000/health/ready/"]
ENTRYPOINT ["statuswatch", "--data-dir", "/var/lib/statuswatch"]
CMD ["serve"]
