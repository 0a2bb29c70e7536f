// A real SMTP server on 127.0.0.1 for the outbound-email tests: what it received, and how it answers.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The message as sent (headers and body, transfer-encoded). */
  raw: string;
}

export interface SmtpOptions {
  /** Listen on this port (a restart on the same port); an ephemeral one by default. */
  port?: number;
  /** Refuse every recipient with 550. */
  rejectRcpt?: boolean;
  /** Require AUTH PLAIN/LOGIN as `desk` with this password (read at each login, so a test can rotate it). */
  password?: { current: string };
}

export async function startSmtp(options: SmtpOptions = {}) {
  const received: ReceivedMail[] = [];
  const { password } = options;
  const server = new SMTPServer({
    logger: false,
    ...(password
      ? {
          authMethods: ['PLAIN', 'LOGIN'],
          allowInsecureAuth: true,
          disabledCommands: ['STARTTLS'],
          onAuth(auth, _session, cb) {
            if (auth.username === 'desk' && auth.password === password.current) cb(null, { user: 'desk' });
            else cb(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
          },
        }
      : { authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'] }),
    onRcptTo(_address, _session, cb) {
      if (options.rejectRcpt) cb(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
      else cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}
