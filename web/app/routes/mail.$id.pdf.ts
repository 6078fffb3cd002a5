import { translate } from '../i18n';
import type { ActionArgs, LoaderArgs } from '../context';
import { download, notFound } from '../lib/download.server';
import { requireRole } from '../lib/guards.server';
import { langOf } from '../lib/http.server';
import { rolesFor } from '../permissions';
import { z } from 'zod';
import { parseForm, secret } from '../lib/form-schema';
import { formAction } from '../lib/form.server';

/**
 * The mail as a PDF: GET without, POST (from the mail page's form) with an optional password —
 * the password travels in the request body, never in the address.
 */
async function pdf(args: LoaderArgs | ActionArgs, password?: string) {
  const { request, context, params } = args;
  const { session, cookie } = await requireRole(request, context, rolesFor('/mail'));
  const r = await context.services.archive.pdf(session, cookie, params.id!, {
    ip: context.ip,
    lang: langOf(request),
    password,
  });
  if (!r) return notFound();
  const day = new Date(r.mail.receivedAt).toISOString().slice(0, 10);
  return download(r.stream, {
    filename: `mail-${day}-${r.mail.id.slice(0, 8)}.pdf`,
    contentType: 'application/pdf',
  });
}

export const loader = (args: LoaderArgs) => pdf(args);

/** An optional password for the PDF (8–128 characters, checked below with its own message). */
const pdfForm = z.object({ password: secret(1024) });

export const action = formAction(async function action(args: ActionArgs) {
  const { password } = await parseForm(args.request, pdfForm);
  if (password && (password.length < 8 || password.length > 128))
    return new Response(translate(langOf(args.request), 'mail.pdfPasswordLength'), {
      status: 400,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    });
  return pdf(args, password || undefined);
});
