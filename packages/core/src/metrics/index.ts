// Desk metrics in SQL: volume, FCR, response/resolution percentiles, SLA, reopen, routing, CSAT/NPS (issue #6).
export * from './desk-metrics';
