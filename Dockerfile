# scicat-globus-proxy: build with dev dependencies, run with production dependencies only.
# Runs like the Go image: mount the config at /service/scicat-globus-proxy-config.yaml.
ARG NODE_IMAGE=node:26-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /build
COPY package.json package-lock.json ./
# --omit=optional: typescript, an optional peer of msw, is not needed at run time
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /service
COPY --from=prod-deps /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY package.json openapi.yaml scicat-globus-proxy-config.example.yaml ./
USER node
EXPOSE 8080
# asks /health on the port and host of the mounted config (PORT and HOST override them)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "dist/cli.js", "healthcheck"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
