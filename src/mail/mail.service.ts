import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { inRequestBackground } from '#src/common/request-context.js';
import nodemailer, { type Transporter } from 'nodemailer';
import { AppConfig } from '#src/config/config.js';

export interface Mail {
  /** Null for a user without an address (a service account): nothing is sent. */
  to: string | null;
  subject: string;
  text: string;
  html?: string;
}

/**
 * Outgoing mail: SMTP (nodemailer) when SMTP_URL is set; otherwise each mail is written to the log so
 * a developer can follow links on one machine.
 */
@Injectable()
export class MailService implements OnModuleDestroy {
  private readonly logger = new Logger('Mail');
  private readonly transport: Transporter | null;

  constructor(private readonly config: AppConfig) {
    this.transport = config.smtpUrl ? nodemailer.createTransport(config.smtpUrl) : null;
  }

  async send(mail: Mail): Promise<void> {
    if (mail.to === null) {
      this.logger.log({
        msg: 'mail not sent: the user has no email address',
        subject: mail.subject,
      });
      return;
    }
    if (!this.transport) {
      if (this.config.isProduction) {
        // Links in these mails are credentials (activation, reset): never written to a log.
        this.logger.warn({
          msg: 'mail not sent: SMTP_URL is not set (the body is withheld from the log in production)',
          to: mail.to,
          subject: mail.subject,
        });
        return;
      }
      // Development only: no SMTP configured, so the mail (its links included) goes to the log.
      this.logger.log({
        msg: 'mail (SMTP_URL not set, not sent)',
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
      });
      return;
    }
    await this.transport.sendMail({
      from: this.config.mailFrom,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    });
  }

  /** Fire-and-forget for mails whose failure must not fail the request (and must not reveal timing). */
  sendInBackground(mail: Mail): void {
    void inRequestBackground(
      this.send(mail).catch((err: unknown) => {
        this.logger.error({
          msg: 'mail delivery failed',
          subject: mail.subject,
          error: (err as Error).message,
        });
      }),
    );
  }

  link(path: string): string {
    return `${this.config.publicUrl}${path}`;
  }

  onModuleDestroy(): void {
    this.transport?.close();
  }
}
