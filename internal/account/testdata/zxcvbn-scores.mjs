// Recomputes zxcvbn-4.4.2-scores.json with the reference implementation,
// the npm package zxcvbn@4.4.2 (what the web app runs):
//
//	mkdir /tmp/zx && cd /tmp/zx && npm init -y >/dev/null && npm install zxcvbn@4.4.2
//	node $REPO/internal/account/testdata/zxcvbn-scores.mjs \
//	  < $REPO/internal/account/testdata/zxcvbn-4.4.2-scores.json > scores.json
//	mv scores.json $REPO/internal/account/testdata/zxcvbn-4.4.2-scores.json
//
// To add a case, add {"password", "email", "name"} to the JSON and rerun.
// zxcvbn is resolved from the current directory's node_modules.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(process.cwd() + "/");
const version = require("zxcvbn/package.json").version;
if (version !== "4.4.2") throw new Error(`zxcvbn ${version}, want 4.4.2`);
const zxcvbn = require("zxcvbn");

const cases = JSON.parse(readFileSync(0, "utf8")).map(({ password, email, name }) => {
  const r = zxcvbn(password, [email, name]);
  return { password, email, name, score: r.score, warning: r.feedback.warning, suggestions: r.feedback.suggestions };
});
process.stdout.write("[\n" + cases.map((c) => "\t" + JSON.stringify(c)).join(",\n") + "\n]\n");
