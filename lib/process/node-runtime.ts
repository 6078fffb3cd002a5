/**
 * The Node.js line mailrepo runs on: Node 24 LTS (Node 20 left maintenance on 2026-04-30, and
 * libraries we depend on need ≥ 22). The project installs it from the npm registry as the
 * devDependency `node`, which every npm script finds first on its PATH; see
 * docs/decisions/0014-node-24-from-the-npm-registry.md. Every process checks at start-up, so an
 * operator who starts a process with another `node` gets a clear refusal, not subtle breakage.
 */
export const SUPPORTED_NODE_MAJOR = 24;

export function unsupportedNode(version: string = process.versions.node): string | undefined {
  const major = Number(version.split('.')[0]);
  if (major === SUPPORTED_NODE_MAJOR) return undefined;
  return (
    `mailrepo runs on Node.js ${SUPPORTED_NODE_MAJOR} LTS; this process runs on ${version}. ` +
    `Start it through npm (npm run …, npx mailrepo …), which puts the project's Node ` +
    `${SUPPORTED_NODE_MAJOR} (node_modules/.bin/node) first on the PATH, or install Node ` +
    `${SUPPORTED_NODE_MAJOR} LTS.`
  );
}
