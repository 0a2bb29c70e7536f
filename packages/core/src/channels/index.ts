// Channels: threading hints, contact normalisation, webhook authentication and inbound SMS (issue #6).
export * from './contact-address';
export * from './inbound-sms';
export * from './reply-transport';
export * from './ticket-reference';
export * from './webhook-signature';
