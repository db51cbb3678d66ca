# One image for the three apps: it builds all three; each compose service (or pod) picks its entry:
#   node dist/apps/subscriptions/main.js | dist/apps/dispatcher/main.js | dist/apps/provider-ingest/main.js
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 3000 3001 3002
# Health checks call /readyz with node's fetch (the image has no curl or wget).
CMD ["node", "dist/apps/subscriptions/main.js"]
