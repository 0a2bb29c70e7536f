// Bundles the server into dist/main.js (esbuild), which `npm start` runs with plain node: no tsx loader and
// no per-module TypeScript compilation at start-up, which held ~20 % of the idle server's memory (issue #4).
// The workspace packages (@fhirdesk/*, TypeScript sources) are bundled in; every other package stays an
// import from node_modules, so native modules, wasm and files found next to a package's own code still work.
// Run: npm run build -w @fhirdesk/server (root `npm run build` and `npm start` run it too).
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
/** packages/: a package found in a node_modules below it is a workspace package's nested copy. */
const workspaces = dirname(root);

/**
 * Packages stay imports from node_modules, except those only a workspace package's own node_modules holds
 * (npm nests a dependency there when the root already holds another version of it, e.g. core's uuid beside a
 * tool's older uuid): the bundle resolves imports from the root, so it would get the other version. Those are
 * bundled in.
 */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('@fhirdesk/') || args.kind === 'entry-point' || args.pluginData === 'resolving') {
        return undefined;
      }
      const found = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'resolving',
      });
      const nested =
        found.errors.length === 0 &&
        found.path.startsWith(`${workspaces}${sep}`) &&
        found.path.includes(`${sep}node_modules${sep}`);
      return nested ? undefined : { path: args.path, external: true };
    });
  },
};

/**
 * Each bundled source keeps its own `import.meta.url` (migrations/, the agent app's dist/, the demo EHR's
 * fixtures are found relative to the file that names them), rewritten relative to the bundle so a moved
 * checkout still works.
 */
function ownImportMetaUrl(outDir: string): Plugin {
  return {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.tsx?$/ }, async (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const fromBundle = relative(outDir, args.path).split(sep).join('/');
        return {
          contents: source.replaceAll(
            'import.meta.url',
            `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`,
          ),
          loader: args.path.endsWith('x') ? 'tsx' : 'ts',
        };
      });
    },
  };
}

/**
 * Bundles a server entry (main.ts, or the benchmark's child entry) into one ESM file. The output must stay
 * inside the repository: its imports of external packages resolve from node_modules above it.
 */
export async function bundleServer(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    plugins: [externalPackages, ownImportMetaUrl(dirname(outfile))],
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await bundleServer(join(root, 'src/main.ts'), join(root, 'dist/main.js'));
}
