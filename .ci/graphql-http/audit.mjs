// Runs graphql-http's server audit (every MUST, SHOULD and MAY rule of the
// GraphQL-over-HTTP specification it checks) against the GraphQL endpoint
// named by the first argument, prints one line per audit (id, result, name,
// and why for any that is not ok) and exits 1 unless every audit is ok.
//
// GET requests carry Apollo-Require-Preflight: the server's CSRF rule
// (API.md, "CSRF prevention") refuses a GET without it, as every browser
// GraphQL client that uses GET knows. POSTs are sent exactly as the audit
// writes them, so the CSRF rule's answer to a POST without a JSON
// Content-Type is audited too.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:PORT/graphql');
  process.exit(2);
}

function fetchWithPreflightOnGET(input, init = {}) {
  const method = (init.method || 'GET').toUpperCase();
  if (method !== 'GET') return fetch(input, init);
  const headers = new Headers(init.headers);
  headers.set('Apollo-Require-Preflight', 'true');
  return fetch(input, { ...init, headers });
}

const audits = serverAudits({ url, fetchFn: fetchWithPreflightOnGET });
const results = [];
for (const { fn } of audits) results.push(await fn()); // one at a time: readable server logs

let failed = 0;
for (const r of results) {
  const line = `${r.id}  ${r.status.padEnd(6)}  ${r.name}`;
  if (r.status === 'ok') {
    console.log(line);
    continue;
  }
  failed++;
  let body = '';
  try {
    body = await r.response.text();
  } catch {
    // the audit already read it
  }
  console.log(`${line}\n        ${r.reason}\n        HTTP ${r.response.status} ${r.response.headers.get('content-type')} ${body.slice(0, 300)}`);
}
console.log(`\n${results.length - failed} of ${results.length} audits ok, ${failed} not ok`);
process.exit(failed === 0 ? 0 : 1);
