// Conversations: inbound channel integrations, threading, patient matching and agent corrections (issue #6).

export {
  type DeliveryStatus,
  deliveryStatuses,
  type Escalation,
  type InboundChannel,
  type InboundMessage,
  type IntegrationKey,
  inboundChannels,
  type OutboundChannel,
  type OutboundDelivery,
  outboundChannels,
  type Survey,
  type TicketSla,
} from '../db/schema/conversations';
export * from './caller-verification';
export * from './channel-settings';
export * from './conversation-service';
export * from './inbound-service';
export * from './integration-keys';
export * from './outbound-delivery';
export * from './patient-match';
export * from './reply-recipient';
export { appendTicketEvent } from './timeline';
export * from './verification-view';
