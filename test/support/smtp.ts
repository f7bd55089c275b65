import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface CapturedMail {
  to: string[];
  subject: string;
  text: string;
  raw: string;
}

function decodeQuotedPrintable(s: string): string {
  return s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function parse(raw: string, to: string[]): CapturedMail {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = head.replace(/\r?\n[ \t]+/g, ' ');
  const subject = /^Subject: (.*)$/im.exec(headers)?.[1] ?? '';
  const body = rest.join('\n\n');
  const qp = /Content-Transfer-Encoding: quoted-printable/i.test(headers);
  const b64 = /Content-Transfer-Encoding: base64/i.test(headers);
  const text = qp
    ? decodeQuotedPrintable(body)
    : b64
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : body;
  return { to, subject, text, raw };
}

/** A real SMTP server on loopback that keeps every mail it receives. */
export class SmtpCapture {
  readonly mails: CapturedMail[] = [];
  private waiters: { match: (m: CapturedMail) => boolean; resolve: (m: CapturedMail) => void }[] =
    [];
  private readonly server: SMTPServer;
  port = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const mail = parse(
            Buffer.concat(chunks).toString('utf8'),
            session.envelope.rcptTo.map((r) => r.address),
          );
          this.mails.push(mail);
          this.waiters = this.waiters.filter((w) => {
            if (!w.match(mail)) return true;
            w.resolve(mail);
            return false;
          });
          callback();
        });
      },
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Resolves with the first mail (already received or coming) to `to` whose subject matches. */
  waitFor(to: string, subject: RegExp, timeoutMs = 5000): Promise<CapturedMail> {
    const match = (m: CapturedMail) =>
      m.to.some((t) => t.toLowerCase() === to.toLowerCase()) && subject.test(m.subject);
    const found = this.mails.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no mail to ${to} matching ${subject} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The first link in a mail whose URL contains `marker`, and the value of its query parameter `param`. */
export function linkParam(mail: CapturedMail, marker: string, param: string): string {
  const url = mail.text.match(/https?:\/\/\S+/g)?.find((u) => u.includes(marker));
  if (!url) throw new Error(`no link with ${marker} in mail: ${mail.text}`);
  const v = new URL(url).searchParams.get(param);
  if (!v) throw new Error(`link ${url} has no ${param}`);
  return v;
}
