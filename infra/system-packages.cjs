// The Debian packages the test suite drives as real peers (swaks, Postfix, Chromium, pdftotext, qpdf,
// 7-Zip, LibreOffice, Tesseract, Ghostscript, Dovecot, BouncyCastle with a JDK). Installed with apt-get when missing and we are root (CI and fresh dev machines); otherwise the exact command is
// printed and the tests that need a tool fail naming it. Dependency-free: runs before npm ci.
'use strict';
const { spawnSync } = require('node:child_process');

/** Each entry: probes (command, args) that all exit 0 once the packages are installed. */
const TEST_TOOLS = [
  { probes: [['which', ['swaks']], ['perl', ['-MNet::SSLeay', '-MIO::Socket::SSL', '-e1']]],
    packages: ['swaks', 'libnet-ssleay-perl', 'libio-socket-ssl-perl'] },
  { probes: [['test', ['-x', '/usr/sbin/postfix']]], packages: ['postfix'] },
  { probes: [['test', ['-x', '/usr/bin/chromium']]], packages: ['chromium'] },
  { probes: [['which', ['pdftotext']], ['which', ['qpdf']]], packages: ['poppler-utils', 'qpdf'] },
  { probes: [['which', ['7z']]], packages: ['p7zip-full'] },
  // Office files made by a real office suite, for attachment text (issue 20).
  { probes: [['which', ['soffice']]],
    packages: ['libreoffice-writer-nogui', 'libreoffice-calc-nogui', 'libreoffice-impress-nogui'] },
  // OCR of scans (German and English) and Ghostscript to make an image-only "scanned" PDF.
  { probes: [['sh', ['-c', 'tesseract --list-langs 2>&1 | grep -qx deu && tesseract --list-langs 2>&1 | grep -qx eng']], ['which', ['gs']]],
    packages: ['tesseract-ocr', 'tesseract-ocr-deu', 'tesseract-ocr-eng', 'ghostscript'] },
  // An IMAP server to import mailboxes from and restore mails into (issue 22).
  { probes: [['test', ['-x', '/usr/sbin/dovecot']]], packages: ['dovecot-imapd'] },
  // BouncyCastle's RFC 4998 classes: an independent validator of our evidence records (issue 23).
  { probes: [['test', ['-f', '/usr/share/java/bcpkix.jar']], ['which', ['javac']]],
    packages: ['libbcpkix-java', 'default-jdk-headless'] },
]; // prettier-ignore

const succeeds = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

function missingPackages(tools) {
  const missing = tools.filter((t) => !t.probes.every(([cmd, args]) => succeeds(cmd, args)));
  return [...new Set(missing.flatMap((t) => t.packages))];
}

function ensure(tools) {
  const missing = missingPackages(tools);
  if (!missing.length) return;
  const cmd = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !succeeds('which', ['apt-get'])) {
    console.warn(`Test tools missing; install them with: sudo ${cmd}`);
    return;
  }
  console.log(`Installing test tools from Debian: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    }).status === 0;
  // A stale package index is the usual reason for a failed install; refresh once and retry.
  if (run()) return;
  spawnSync('apt-get', ['update'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (!run()) console.warn(`Installing test tools failed; try: ${cmd}`);
}

module.exports = { ensureTestTools: () => ensure(TEST_TOOLS) };
