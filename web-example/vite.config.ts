import { defineConfig } from "vite";

// No React plugin: JSX is compiled by Vite's own transformer with the automatic
// runtime (tsconfig "jsx": "react-jsx"), which keeps the dependency list short.
// The cost is no Fast Refresh in `npm run dev` (edits reload the page).
export default defineConfig({
  server: { port: 5173, strictPort: true },
  preview: { port: 5173, strictPort: true },
  build: {
    sourcemap: true,
    // zxcvbn (the password strength hint) is one ~820 kB chunk of word lists,
    // loaded only by the pages with a new-password field; everything else is
    // far below. Named after the package (its entry file is "main.js").
    chunkSizeWarningLimit: 900,
    rolldownOptions: {
      output: {
        chunkFileNames: (chunk) =>
          chunk.moduleIds.some((id) => id.includes("/node_modules/zxcvbn/")) ? "assets/zxcvbn-[hash].js" : "assets/[name]-[hash].js",
      },
    },
  },
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
