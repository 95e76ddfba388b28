# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/matcher .

# Debian rather than distroless: the attachment readers run outside programs
# (services/attachments/read). The packages are ./dev's READER_PACKAGES, keep
# the two lists equal; prlimit comes with util-linux, which every Debian has.
# ca-certificates: TLS to Anthropic, Zendesk, MongoDB and SMTP servers.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates poppler-utils tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 65532 --user-group --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin nonroot
COPY --from=build /out/matcher /matcher
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/matcher"]
CMD ["serve"]
