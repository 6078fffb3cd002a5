import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inclusionPath } from '../ledger/merkle';
import type { BundleManifest } from './bundle-layout';

/**
 * VERIFY.md for one bundle: the template in assets/ with this proof's values, including the exact
 * shell commands that recompute each Merkle root with openssl, printf, cat and base64 only.
 */

const TEMPLATE = path.join(__dirname, 'assets', 'VERIFY.md');

function merkleCommands(entryFile: string, index: number, size: number, proof: Buffer[]): string {
  const hash = 'openssl dgst -sha256 -binary';
  const lines = [
    `${hash} ${entryFile} > entry.bin`,
    `(printf '\\000'; cat entry.bin) | ${hash} > node.bin`,
  ];
  for (const step of inclusionPath(index, size, proof)) {
    const sibling = `echo '${Buffer.from(step.sibling).toString('base64')}' | base64 -d`;
    const pair = step.siblingOnLeft ? `${sibling}; cat node.bin` : `cat node.bin; ${sibling}`;
    lines.push(`(printf '\\001'; ${pair}) | ${hash} > next.bin && mv next.bin node.bin`);
  }
  lines.push('base64 node.bin');
  return lines.map((l) => `    ${l}`).join('\n');
}

export function renderVerifyMd(v: {
  manifest: BundleManifest;
  tenantKeyHash: string;
  anchorKeyHash: string;
  tenantProof: Buffer[];
  anchorProof: Buffer[];
  /** Where the first record's first token lies in evidence/1.ers (0-based offset). */
  ersToken: { offset: number; length: number };
}): string {
  const m = v.manifest;
  const values: Record<string, string> = {
    entrySha256: m.entrySha256,
    tenantOrigin: m.tenantLog.origin,
    tenantIndex: String(m.tenantLog.index),
    tenantSize: String(m.tenantLog.checkpointSize),
    anchorOrigin: m.anchorLog.origin,
    anchorIndex: String(m.anchorLog.index),
    anchorSize: String(m.anchorLog.checkpointSize),
    genTime: m.timestamp.genTime,
    tsaSerial: m.timestamp.serial,
    tsaPolicy: m.timestamp.policy,
    tenantKeyHash: v.tenantKeyHash,
    anchorKeyHash: v.anchorKeyHash,
    ersTokenStart: String(v.ersToken.offset + 1),
    ersTokenLength: String(v.ersToken.length),
    tenantMerkleCommands: merkleCommands(
      'mail.eml',
      m.tenantLog.index,
      m.tenantLog.checkpointSize,
      v.tenantProof,
    ),
    anchorMerkleCommands: merkleCommands(
      'tenant-checkpoint.txt',
      m.anchorLog.index,
      m.anchorLog.checkpointSize,
      v.anchorProof,
    ),
  };
  return readFileSync(TEMPLATE, 'utf8').replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`VERIFY.md template names unknown value ${name}`);
    return value;
  });
}
