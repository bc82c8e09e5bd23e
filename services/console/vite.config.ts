/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves on 5173 and sends the API to the gateway (same paths as in production).
const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
  },
  server: {
    proxy: { "/api": gateway, "/v1": gateway },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
