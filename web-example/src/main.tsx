import { StrictMode, type ComponentType } from "react";
import { createRoot } from "react-dom/client";
import "./styles.css";

// Two independent example clients in one build: /urql loads the urql one,
// every other path the Apollo one. Each is its own chunk.
const isUrql = window.location.pathname === "/urql" || window.location.pathname.startsWith("/urql/");
const load: Promise<{ default: ComponentType }> = isUrql ? import("./urql/UrqlApp") : import("./App");

load.then(({ default: Root }) => {
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <Root />
    </StrictMode>,
  );
});
