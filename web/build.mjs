// Builds the dashboard into app/server/static/: one JS bundle and one CSS file with content-hashed
// names under assets/ (served with a year-long cache), and index.html naming them (served no-cache).
// Run by scripts/build-web (after `npm ci`); nothing of Node runs with the app.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, "..", "app", "server", "static"));
const assets = join(out, "assets");

const result = await esbuild.build({
  entryPoints: { app: join(here, "src", "main.js"), style: join(here, "src", "style.css") },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome100", "firefox100", "safari15"],
  entryNames: "[name]-[hash]",
  outdir: assets,
  write: false,
  legalComments: "linked",
  sourcemap: false,
  logLevel: "warning",
  metafile: true,
});

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
const names = {};
for (const file of result.outputFiles) {
  writeFileSync(file.path, file.contents);
  const name = basename(file.path);
  if (name.endsWith(".js")) names.js = name;
  else if (name.endsWith(".css")) names.css = name;
}

// The icon: the app's own, under a hashed name too.
const iconSource = join(here, "..", "resources", "icon.svg");
const iconHash = createHash("sha256").update(readFileSync(iconSource)).digest("hex").slice(0, 8);
names.icon = `icon-${iconHash}.svg`;
copyFileSync(iconSource, join(assets, names.icon));

const html = readFileSync(join(here, "src", "index.html"), "utf8")
  .replaceAll("%APP_JS%", `/assets/${names.js}`)
  .replaceAll("%APP_CSS%", `/assets/${names.css}`)
  .replaceAll("%ICON%", `/assets/${names.icon}`);
writeFileSync(join(out, "index.html"), html);

const sizes = result.outputFiles.map((f) => `${basename(f.path)} ${(f.contents.length / 1024).toFixed(0)} KiB`);
console.log(`dashboard built in ${out}: ${sizes.join(", ")}`);
