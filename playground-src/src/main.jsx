// Entry point of the offline GraphiQL page served by internal/playground.
//
// The page carries no inline script (its Content-Security-Policy forbids
// one), so the Go handler passes its configuration as data attributes on
// the mount element: data-endpoint is the GraphQL HTTP endpoint, relative
// to the page or absolute on the same origin.
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';
import 'graphiql/graphiql.css';
import './page.css';

const mount = document.getElementById('graphiql');
const endpoint = new URL(mount.dataset.endpoint || '/graphql', window.location.href);

// Subscriptions go over graphql-ws on the same path; ws:// or wss:// follows
// the page's scheme. The client is lazy: it connects only when a
// subscription runs, so a server without WebSocket support costs nothing.
const wsURL = new URL(endpoint);
wsURL.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

const fetcher = createGraphiQLFetcher({
  url: endpoint.href,
  // The session lives in a cookie, so every request must carry it.
  fetch: (input, init) => window.fetch(input, { ...init, credentials: 'include' }),
  // The server's CSRF rule rejects non-JSON requests without this header;
  // on JSON requests it is harmless.
  headers: { 'Apollo-Require-Preflight': 'true' },
  wsClient: createClient({ url: wsURL.href, lazy: true }),
});

createRoot(mount).render(<GraphiQL fetcher={fetcher} />);
