import { defineConfig } from "vite";

// No React plugin: JSX is compiled by Vite's own transformer with the automatic
// runtime (tsconfig "jsx": "react-jsx"), which keeps the dependency list short.
// The cost is no Fast Refresh in `npm run dev` (edits reload the page).
export default defineConfig({
  server: { port: 5173, strictPort: true },
  preview: { port: 5173, strictPort: true },
  build: { sourcemap: true },
  // Pre-bundle every entry point the app imports, so the dev server never
  // re-optimizes (and reloads) halfway through the first visit.
  optimizeDeps: {
    include: [
      "@apollo/client",
      "@apollo/client/errors",
      "@apollo/client/link/error",
      "@apollo/client/link/subscriptions",
      "@apollo/client/react",
      "@apollo/client/utilities",
      "graphql-ws",
      "react",
      "react-dom/client",
      "react/jsx-dev-runtime",
      "urql",
    ],
  },
});
