# syntax=docker/dockerfile:1
# The server as a static binary (-tags noembedded: no in-process stores, so
# REDIS_URL and MONGODB_URI are required) on a distroless image, as a
# non-root user. Not built on the CI machine (it has no container engine):
# .ci/deploy-check runs this file's `go build` line instead.
#
#   docker build -t sessiongql .
#   docker compose up            # with Redis and MongoDB (compose.yaml)

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -tags noembedded -trimpath -ldflags="-s -w" -o /out/sessiongql .

# For compose.yaml: the same binary on distroless's debug image, whose
# busybox wget lets the healthcheck ask /readyz. Kubernetes probes need no
# tool in the image: use the final stage there.
FROM gcr.io/distroless/static-debian12:debug-nonroot AS debug
COPY --from=build /out/sessiongql /sessiongql
EXPOSE 8080
ENTRYPOINT ["/sessiongql"]

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sessiongql /sessiongql
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/sessiongql"]
