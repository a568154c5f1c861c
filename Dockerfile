# syntax=docker/dockerfile:1
# The Easel server in a container: the same install and start commands as the README
# (`npm ci`, the web build of `npm start`'s prestart, then `tsx server/main.ts`), listening on
# 0.0.0.0:7860 with /data and /models as volumes and a health check on /api/health.
#
#   docker build -t easel .                                  # CPU (node:20-bookworm-slim)
#   docker build -t easel:cuda --build-arg ENGINE=cuda .     # CUDA 12 (nvidia/cuda runtime + Node)
#   docker run -p 7860:7860 -v easel-data:/data -v ./models:/models easel
#   docker run --gpus all ... easel:cuda
#
# Details and the build arguments: docs/deploy.md.

# cpu | cuda: picks the base stage below and the onnxruntime-node binaries.
ARG ENGINE=cpu
# The CUDA base must carry CUDA 12 and cuDNN 9 (what onnxruntime-node's cuda12 binaries load).
ARG CUDA_IMAGE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
ARG NODE_VERSION=20.20.2

FROM node:20-bookworm-slim AS base-cpu

FROM ${CUDA_IMAGE} AS base-cuda
ARG NODE_VERSION
# The official Node tarball (the same one setup_colab.sh installs); a `node` user like the
# node image's, so both variants run as the same uid.
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl xz-utils \
  && curl -fsSL "https://nodejs.org/dist/v${NODE_VERSION}/node-v${NODE_VERSION}-linux-x64.tar.xz" | tar -xJ -C /usr/local --strip-components=1 \
  && apt-get purge -y curl xz-utils && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
  && (id -u node >/dev/null 2>&1 || useradd --create-home --uid 1000 --shell /usr/sbin/nologin node) \
  && node --version

FROM base-${ENGINE}
ARG ENGINE
WORKDIR /app

# Dependencies first, so a source change does not reinstall them. The project .npmrc skips
# onnxruntime-node's CUDA download; the cuda variant then runs its install script with cuda12
# (npm 11 runs no script of a package that package.json's allowScripts leaves out).
COPY package.json package-lock.json .npmrc ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci \
  && if [ "$ENGINE" = cuda ]; then ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js; fi \
  && npm cache clean --force

COPY . .
RUN npm run build:web

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=7860 \
    DATA_DIR=/data \
    MODELS_DIR=/models \
    ENGINE_DEVICE=${ENGINE}
RUN mkdir -p /data /models && chown node:node /data /models
VOLUME ["/data", "/models"]
USER node
EXPOSE 7860

# Node's own fetch: the slim image has no curl. /api/health needs no token.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 7860) + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node_modules/.bin/tsx", "server/main.ts"]
