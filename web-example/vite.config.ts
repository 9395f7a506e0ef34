import { defineConfig } from "vite";

// No React plugin: JSX is compiled by Vite's own transformer with the automatic
// runtime (tsconfig "jsx": "react-jsx"), which keeps the dependency list short.
// The cost is no Fast Refresh in `npm run dev` (edits reload the page).
export default defineConfig({
  server: { port: 5173, strictPort: true },
  preview: { port: 5173, strictPort: true },
  build: { sourcemap: true },
});
