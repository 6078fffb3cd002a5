import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { AUDIT_EVENTS, AUDIT_GROUPS, FEATURES, type AuditAction } from '../../lib/audit/catalogue';
import { de } from '../../web/app/i18n/de';
import { en } from '../../web/app/i18n/en';
import { eventSentence } from '../../web/app/lib/audit-sentence';

/**
 * The catalogue is a contract: every event of a built feature must be emitted by some code path
 * (an `action: '<event>'` passed to recordAudit in product code), and docs/audit.md must list
 * every event. Behavioural tests per event live with each feature (test/integration/audit-log…).
 */

const ROOT = path.join(__dirname, '../..');
const PRODUCT_DIRS = ['lib', 'application', 'activities', 'workers', 'web'];

function sources(dir: string): string[] {
  const full = path.join(ROOT, dir);
  let entries: string[];
  try {
    entries = readdirSync(full);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory())
      return name === 'node_modules' || name === 'build' ? [] : sources(rel);
    return /\.(ts|tsx)$/.test(name) && rel !== path.join('lib', 'audit', 'catalogue.ts')
      ? [rel]
      : [];
  });
}

const code = PRODUCT_DIRS.flatMap(sources)
  .map((f) => readFileSync(path.join(ROOT, f), 'utf8'))
  .join('\n');

const events = Object.entries(AUDIT_EVENTS) as [AuditAction, { feature: keyof typeof FEATURES }][];

describe('audit event catalogue', () => {
  it.each(events.filter(([, e]) => FEATURES[e.feature]))(
    '%s is emitted by product code (its feature is built)',
    (action) => {
      expect(code).toContain(`action: '${action}'`);
    },
  );

  it('is documented event by event in docs/audit.md', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/audit.md'), 'utf8');
    for (const [action] of events) expect(doc).toContain(`\`${action}\``);
  });

  it('names features that exist', () => {
    for (const [, e] of events) expect(Object.keys(FEATURES)).toContain(e.feature);
  });

  // The audit page shows each event as a sentence in the viewer's language (issue 25 §1).
  it.each(events)('%s has a sentence in German and in English', (action) => {
    for (const dictionary of [de, en]) {
      const sentence = (dictionary as Record<string, string>)[`audit.event.${action}`];
      expect(typeof sentence).toBe('string');
      expect(sentence!.trim()).not.toBe('');
    }
    expect(de[`audit.event.${action}` as keyof typeof de]).not.toBe(
      en[`audit.event.${action}` as keyof typeof en],
    );
  });

  it('names every group in both languages, and every event is in one', () => {
    for (const group of AUDIT_GROUPS) {
      expect(de[`audit.group.${group}`]).toBeTruthy();
      expect(en[`audit.group.${group}`]).toBeTruthy();
    }
    for (const [, e] of events)
      expect(AUDIT_GROUPS).toContain((e as unknown as { group: string }).group);
  });

  it('fills every placeholder of every sentence, even from an event with no details', () => {
    for (const [action] of events)
      for (const lang of ['de', 'en'] as const) {
        const s = eventSentence(
          lang,
          {
            action,
            actor: { type: 'system', id: null, label: null },
            target: null,
            details: {},
            sealed: false,
          },
          {},
        );
        expect(s).not.toMatch(/\{\w+\}/);
        expect(s).not.toBe(action);
      }
  });
});
