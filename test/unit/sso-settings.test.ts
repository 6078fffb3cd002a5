import { parseSsoForm } from '../../lib/auth/sso-settings';

/**
 * Issue 21 §5: what an owner types on the single sign-on page is checked before it is stored —
 * an https issuer (http only for a local test provider, and only where allowed), domains, a
 * group claim name and group → role lines that can never make an owner.
 */
const form = {
  issuer: 'https://login.microsoftonline.com/tenant-id/v2.0/',
  clientId: ' 1234-abcd ',
  domains: '@Firma.de, steuer-kanzlei.de;firma.de',
  groupClaim: '',
  roleMap: 'Archiv-Admins = admin\n\n  Prüfer = auditor  ',
  required: true,
};
const problem = (input: Partial<typeof form>, allowHttp = false) => {
  try {
    parseSsoForm({ ...form, ...input }, allowHttp);
    return undefined;
  } catch (e) {
    return (e as { code: string; field?: string }).field;
  }
};

describe('single sign-on settings form', () => {
  it('normalises what it accepts', () => {
    expect(parseSsoForm(form, false)).toEqual({
      issuer: 'https://login.microsoftonline.com/tenant-id/v2.0',
      clientId: '1234-abcd',
      allowedDomains: ['firma.de', 'steuer-kanzlei.de'],
      groupClaim: 'groups',
      roleMap: [
        { group: 'Archiv-Admins', role: 'admin' },
        { group: 'Prüfer', role: 'auditor' },
      ],
      required: true,
    });
  });

  it('refuses issuers that are not https, but a local test provider where allowed', () => {
    expect(problem({ issuer: 'http://idp.example' })).toBe('issuer');
    expect(problem({ issuer: 'http://127.0.0.1:4000' })).toBe('issuer');
    expect(problem({ issuer: 'http://127.0.0.1:4000' }, true)).toBeUndefined();
    expect(problem({ issuer: 'http://idp.example' }, true)).toBe('issuer');
    expect(problem({ issuer: 'https://idp.example/?x=1' })).toBe('issuer');
    expect(problem({ issuer: 'javascript:alert(1)' })).toBe('issuer');
    expect(problem({ issuer: 'nicht einmal eine URL' })).toBe('issuer');
  });

  it('refuses missing client ids, bad domains, claim names and role lines', () => {
    expect(problem({ clientId: '   ' })).toBe('clientId');
    expect(problem({ domains: '' })).toBe('domains');
    expect(problem({ domains: 'firma' })).toBe('domains');
    expect(problem({ domains: 'firma.de, <script>.de' })).toBe('domains');
    expect(problem({ domains: Array.from({ length: 21 }, (_, i) => `d${i}.de`).join(',') })).toBe('domains'); // prettier-ignore
    expect(problem({ groupClaim: 'groups; drop' })).toBe('groupClaim');
    // Groups never make an owner.
    expect(problem({ roleMap: 'Chefs = owner' })).toBe('roleMap');
    expect(problem({ roleMap: 'keine Zuordnung' })).toBe('roleMap');
  });
});
