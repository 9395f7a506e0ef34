// GraphQL Code Generator: types and typed documents for every graphql(`…`)
// in src/, from the server's schema files (no running server needed).
// `npm run codegen` rewrites src/gql/; commit it. CI (.ci/codegen-check)
// fails when it is stale, as .ci/run does for gqlgen's output.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../graph/*.graphqls",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      // Fragments spread into an operation come back as plain fields (no useFragment).
      presetConfig: { fragmentMasking: false },
      config: {
        // JSON (WebAuthn options and credentials): checked where it is read (src/webauthn.ts).
        scalars: { Time: "string", ID: "string", JSON: "unknown" },
        enumsAsTypes: true, // SessionEndReason as a union of strings: no runtime enum
        useTypeImports: true,
        strictScalars: true,
      },
    },
  },
};

export default config;
